// util.promisify() of node:dns's lookup() and lookupService() resolves to objects ({ address,
// family }, { hostname, service }): Node marks the two functions with an internal symbol
// (customPromisifyArgs) that only its own util.promisify reads. The public equivalent is
// util.promisify.custom, set here to the function util.promisify would build from those names.
import { promisify } from 'node:util';

type Callback = (err: unknown, ...values: unknown[]) => void;

/** Sets fn[util.promisify.custom] to what promisify(fn) gives in Node when fn's callback values are `names`. */
export function promisifiesAs<F extends (...args: never[]) => unknown>(fn: F, names: readonly string[]): F {
  const custom = {
    [fn.name](this: unknown, ...args: unknown[]): Promise<unknown> {
      return new Promise((resolve, reject) => {
        const callback: Callback = (err, ...values) => {
          if (err) return reject(err);
          // One value (lookup with all: true gives the list alone): that value, as promisify does.
          if (values.length <= 1) return resolve(values[0]);
          resolve(Object.fromEntries(names.map((name, i) => [name, values[i]])));
        };
        // A synchronous throw (a bad argument) becomes the rejection, as in promisify's executor.
        Reflect.apply(fn, this, [...args, callback]);
      });
    },
  }[fn.name];
  // As promisify's result: fn's name and length, and itself as its own custom form.
  Object.defineProperty(custom, 'length', { value: fn.length, configurable: true });
  Object.defineProperty(custom, promisify.custom, { value: custom, writable: false, configurable: true });
  Object.defineProperty(fn, promisify.custom, { value: custom, writable: false, configurable: true });
  return fn;
}
