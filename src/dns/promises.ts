// Resolver with node:dns/promises's API: the same methods returning promises. As in Node, wrong
// arguments throw synchronously; failures of the query reject. Laid out as the callback style's
// (resolver.ts): the query methods on the class's prototype, the rest on ResolverBase's.
import type * as nodeDns from 'node:dns';
import type { DnsEngine } from './engine';
import { assignMethods, methodFor, QUERY_METHODS, ResolverBase, ResolverOptions, runQuery, type TlsaRecord, type TypedQueryMethod } from './resolver';
import { validateString } from '../internal/validators';

/** The promise-style Resolver, typed as node:dns/promises's Resolver types its query methods. */
export interface PromiseResolver extends ResolverBase, Pick<nodeDns.promises.Resolver, TypedQueryMethod | 'resolve'> {
  /** Where this Node has it (22.15, 23.9 and later): the TLSA records of `hostname`. */
  resolveTlsa?(hostname: string): Promise<TlsaRecord[]>;
}

/** A promise-style Resolver class whose `new` makes its engine with `engineFor(options)` (one per stack). */
export function promiseResolverClass(
  engineFor: (options?: ResolverOptions) => DnsEngine,
): new (options?: ResolverOptions) => PromiseResolver {
  class Resolver extends ResolverBase {
    constructor(...[options]: [ResolverOptions?]) {
      super(engineFor(options));
    }
  }
  // One method per row of QUERIES; options (ttl) are read by resolve4 and resolve6 only, as
  // node:dns/promises reads them.
  const methods: Record<string, unknown> = {};
  for (const method of QUERY_METHODS) {
    const takesOptions = method === 'resolve4' || method === 'resolve6';
    methods[method] = {
      [method](this: PromiseResolver, hostname: unknown, options?: unknown): Promise<unknown> {
        return runQuery(this, method, hostname, takesOptions ? options : undefined);
      },
    }[method];
  }
  methods.resolve = function resolve(this: PromiseResolver, hostname: unknown, rrtype?: unknown): Promise<unknown> {
    if (rrtype === undefined) return runQuery(this, 'resolve4', hostname, undefined);
    return runQuery(this, methodFor(validateString(rrtype, 'rrtype')), hostname, undefined);
  };
  assignMethods(Resolver.prototype, methods);
  return Resolver as unknown as new (options?: ResolverOptions) => PromiseResolver;
}
