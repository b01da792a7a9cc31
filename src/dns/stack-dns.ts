// The type of `stack.dns`, declared rather than inferred from createDns(): the published .d.ts and
// the generated reference then name it and its parts (inferred, it was a 7 KB anonymous type).
// createDns() is checked against it, so the two cannot drift apart.
import type * as nodeDns from 'node:dns';
import type { HostsTable } from './hosts';
import type { makeLookup, makeLookupService, makePromiseLookup, makePromiseLookupService, ResultOrder } from './lookup';
import type { PromiseResolver } from './promises';
import type { QueryMethod as ResolverQuery, Resolver, ResolverOptions } from './resolver';

/** The query methods, the same in both API styles (resolver.ts's one table), and resolve(). */
type QueryMethod = 'resolve' | ResolverQuery;

/** The error codes node:dns exports (`NODATA: 'ENODATA'`, ...), in both API styles. */
type ErrorCode = 'NODATA' | 'FORMERR' | 'SERVFAIL' | 'NOTFOUND' | 'NOTIMP' | 'REFUSED' | 'BADQUERY' | 'BADNAME'
  | 'BADFAMILY' | 'BADRESP' | 'CONNREFUSED' | 'TIMEOUT' | 'EOF' | 'FILE' | 'NOMEM' | 'DESTRUCTION' | 'BADSTR'
  | 'BADFLAGS' | 'NONAME' | 'BADHINTS' | 'NOTINITIALIZED' | 'LOADIPHLPAPI' | 'ADDRGETNETWORKPARAMS' | 'CANCELLED';

/** `stack.dns.promises`: node:dns/promises on the stack. */
export interface StackDnsPromises extends Pick<PromiseResolver, QueryMethod | 'getServers' | 'setServers'>,
  Pick<typeof nodeDns, ErrorCode> {
  /** dns.promises.lookup(): the hosts table, then the stack's DNS servers (never the host's resolver). */
  lookup: ReturnType<typeof makePromiseLookup>;
  /** dns.promises.lookupService(): the hosts table, then a PTR query through the stack. */
  lookupService: ReturnType<typeof makePromiseLookupService>;
  /** A resolver of its own, starting from the stack's servers and search list. */
  Resolver: new (options?: ResolverOptions) => PromiseResolver;
  getDefaultResultOrder(): ResultOrder;
  setDefaultResultOrder(order: ResultOrder): void;
}

/**
 * `stack.dns`: node:dns on the stack — callbacks, `promises`, `Resolver`, the constants — plus the
 * hosts table and the search list. Queries go out through the stack's own sockets to the servers
 * set with `setServers()` (which also steers `lookup()`: a stack has no resolv.conf).
 */
export interface StackDns extends Pick<Resolver, QueryMethod | 'getServers' | 'setServers'>,
  Pick<typeof nodeDns, ErrorCode | 'ADDRCONFIG' | 'ALL' | 'V4MAPPED'> {
  /** dns.lookup(): the hosts table, then the stack's DNS servers (never the host's resolver). */
  lookup: ReturnType<typeof makeLookup>;
  /** dns.lookupService(): the hosts table, then a PTR query through the stack. */
  lookupService: ReturnType<typeof makeLookupService>;
  /** A resolver of its own, starting from the stack's servers and search list. */
  Resolver: new (options?: ResolverOptions) => Resolver;
  getDefaultResultOrder(): ResultOrder;
  setDefaultResultOrder(order: ResultOrder): void;
  /** The search suffixes (resolv.conf's `search`); an iothts extension, like `hosts`. */
  getSearch(): string[];
  /** Sets the search suffixes; they apply to `resolve*()` too. */
  setSearch(list: readonly string[]): void;
  /** The hosts table: the host's /etc/hosts (or the loopback names), the stack's own, then add()ed; before DNS. */
  hosts: HostsTable;
  promises: StackDnsPromises;
}
