// node:dns under the override: thin functions in node:dns's place that call the overriding stack's
// own at each call, so the stack's resolver (src/dns/, and the dgram, net and crypto it uses) is
// loaded at the first look-up, not when the hook starts. They pass `this`, the arguments and the
// return value through untouched, and util.promisify.custom is the stack function's, read when asked.
import { promisify } from 'node:util';

type Fn = (this: unknown, ...args: unknown[]) => unknown;
type Target = Record<string | symbol, unknown>;

// node:dns's names the stack's resolver takes over (getDefaultResultOrder & co. stay Node's, and so
// do lookup and lookupService: dns-binding.ts answers the binding calls they make).
const REPLACED = /^(?:resolve\w*|reverse|getServers|setServers|Resolver)$/;

/**
 * Puts thin wrappers of `source()`'s functions in `target`'s place, for each of its own replaced
 * names (a name `source()` lacks then calls the original). Returns the undo.
 */
export function replaceDnsFunctions(target: Target, source: () => Target): () => void {
  const saved: Array<[string, PropertyDescriptor]> = [];
  for (const name of Object.keys(target)) {
    const descriptor = Object.getOwnPropertyDescriptor(target, name);
    if (!REPLACED.test(name) || !descriptor || typeof descriptor.value !== 'function') continue;
    saved.push([name, descriptor]);
    const original = descriptor.value as Fn;
    const real = (): Fn => (source()[name] as Fn | undefined) ?? original;
    if (name === 'Resolver') {
      // A class: `new`, `instanceof`, subclassing and its prototype's methods need the stack's class
      // itself, so node:dns.Resolver is an accessor that loads it when read (an assignment replaces it).
      Object.defineProperty(target, name, {
        configurable: true, enumerable: true,
        get: real,
        set(value: unknown) {
          Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: true });
        },
      });
      continue;
    }
    const wrapper = {
      [name](this: unknown, ...args: unknown[]): unknown {
        return Reflect.apply(real(), this, args);
      },
    }[name] as Fn;
    Object.defineProperty(wrapper, 'length', { value: original.length });
    Object.defineProperty(wrapper, promisify.custom, {
      configurable: true, get: () => (real() as unknown as Target)[promisify.custom],
    });
    Object.defineProperty(target, name, { value: wrapper, writable: true, configurable: true, enumerable: true });
  }
  return () => {
    for (const [name, descriptor] of saved.reverse()) Object.defineProperty(target, name, descriptor);
  };
}
