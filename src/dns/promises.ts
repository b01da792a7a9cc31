// Resolver with node:dns/promises's API: the same methods returning promises. As in Node, wrong
// arguments throw synchronously; failures of the query reject.
import type * as nodeDns from 'node:dns';
import { methodFor, QUERY_METHODS, QueryMethod, ResolverBase } from './resolver';
import { validateString } from '../internal/validators';

/** The query methods of the promise style, typed as node:dns/promises's Resolver types them. */
// Lint: the static block installs these methods on the prototype; merging only gives them node:dns/promises's types.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface PromiseResolver extends Pick<nodeDns.promises.Resolver, QueryMethod> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class PromiseResolver extends ResolverBase {
  resolve(hostname: string, rrtype?: string): Promise<unknown> {
    if (rrtype === undefined) return this.run('resolve4', hostname, undefined);
    return this.run(methodFor(validateString(rrtype, 'rrtype')), hostname, undefined);
  }

  // One method per row of QUERIES (resolver.ts), as for the callback style; options (ttl) are read
  // by resolve4 and resolve6 only, as node:dns/promises reads them.
  static {
    for (const method of QUERY_METHODS) {
      const takesOptions = method === 'resolve4' || method === 'resolve6';
      const { [method]: fn } = {
        [method](this: PromiseResolver, hostname: unknown, options?: unknown): Promise<unknown> {
          return this.run(method, hostname, takesOptions ? options : undefined);
        },
      };
      Object.defineProperty(PromiseResolver.prototype, method, { value: fn, writable: true, configurable: true });
    }
  }
}
