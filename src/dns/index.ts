// createDns(transport): an object shaped like node:dns (callbacks, promises, Resolver classes,
// constants) whose every query goes through the transport's stack sockets. It never falls back to
// the host's resolver or /etc/resolv.conf: with no server configured, queries fail at once.
import * as nodeDns from 'node:dns';
import { invalidArgType, invalidArgValue } from '../internal/errors';
import { nodeDefaultOrderError } from '../internal/node-reference';
import { DnsEngine, EngineConfig } from './engine';

import { HostsTable } from './hosts';
import { HOST_HOSTS_FILE } from './hosts-file';
import { makeLookup, makeLookupService, makePromiseLookup, makePromiseLookupService, ORDERS, ResultOrder } from './lookup';
import { PromiseResolver, promiseResolverClass } from './promises';
import {
  callbackResolverClass, Resolver as CallbackResolver, QUERY_METHODS, QueryMethod, ResolverOptions, resolverOn,
  resolverOptions,
} from './resolver';
import { formatServers, parseServers } from './servers';
import type { DnsTransport } from './transport';
import type { StackDns } from './stack-dns';
import { validateOneOf } from '../internal/validators';

export type { DnsTransport } from './transport';
export type { HostEntry, HostsTable } from './hosts';
export type { LookupAddress, ResultOrder } from './lookup';
export type { ResolverOptions } from './resolver';
export type { StackDns, StackDnsPromises } from './stack-dns';

export interface CreateDnsOptions {
  /** DNS servers of the stack: "ip", "ip:port", "[ipv6]:port" (none: every query fails at once). */
  servers?: string[];
  /** Search suffixes, like resolv.conf's `search`. */
  search?: string[];
  /** Names with fewer dots than this try the search suffixes first (default 1). */
  ndots?: number;
  /** Milliseconds per attempt (default 5000). */
  timeout?: number;
  /** Rounds over the servers (default 4). */
  tries?: number;
  /** Extra hosts-table entries, consulted before DNS. */
  hosts?: Array<{ name: string; address: string }>;
  /**
   * The hosts file the table starts from (default: the host's /etc/hosts, read again when it
   * changes); null: none, only the loopback names (localhost, ip6-localhost, ip6-loopback).
   */
  hostsFile?: string | null;
}

/** The error codes node:dns exports (NODATA: 'ENODATA', ...), taken from node:dns itself. */
const ERROR_CODES = {
  NODATA: nodeDns.NODATA, FORMERR: nodeDns.FORMERR, SERVFAIL: nodeDns.SERVFAIL, NOTFOUND: nodeDns.NOTFOUND,
  NOTIMP: nodeDns.NOTIMP, REFUSED: nodeDns.REFUSED, BADQUERY: nodeDns.BADQUERY, BADNAME: nodeDns.BADNAME,
  BADFAMILY: nodeDns.BADFAMILY, BADRESP: nodeDns.BADRESP, CONNREFUSED: nodeDns.CONNREFUSED,
  TIMEOUT: nodeDns.TIMEOUT, EOF: nodeDns.EOF, FILE: nodeDns.FILE, NOMEM: nodeDns.NOMEM,
  DESTRUCTION: nodeDns.DESTRUCTION, BADSTR: nodeDns.BADSTR, BADFLAGS: nodeDns.BADFLAGS,
  NONAME: nodeDns.NONAME, BADHINTS: nodeDns.BADHINTS, NOTINITIALIZED: nodeDns.NOTINITIALIZED,
  LOADIPHLPAPI: nodeDns.LOADIPHLPAPI, ADDRGETNETWORKPARAMS: nodeDns.ADDRGETNETWORKPARAMS,
  CANCELLED: nodeDns.CANCELLED,
} as const;

function searchList(search: unknown): string[] {
  if (!Array.isArray(search)) throw invalidArgType('options.search', 'an instance of Array', search);
  return search.map((value: unknown, i) => {
    if (typeof value !== 'string') throw invalidArgType(`options.search[${i}]`, 'of type string', value);
    const domain = value.replace(/^\.|\.$/g, '');
    if (!/^(?!-)[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*$/.test(domain)) {
      throw invalidArgValue(`options.search[${i}]`, value, 'must be a domain name such as "example.com"');
    }
    return domain;
  });
}

function engineConfig(options: CreateDnsOptions): EngineConfig {
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  const ndots = options.ndots ?? 1;
  if (!Number.isInteger(ndots) || ndots < 0 || ndots > 15) {
    throw invalidArgValue('options.ndots', ndots, 'must be an integer from 0 to 15');
  }
  return {
    servers: parseServers(options.servers ?? []),
    search: searchList(options.search ?? []),
    ndots,
    ...resolverOptions({ timeout: options.timeout, tries: options.tries }),
  };
}

/** resolve() and every query method of a resolver, bound to it: node:dns's module functions. */
function queryFunctions<R extends CallbackResolver | PromiseResolver>(resolver: R): Pick<R, QueryMethod | 'resolve'> {
  const names = ['resolve', ...QUERY_METHODS] as const;
  const resolverMethods = resolver as unknown as Record<string, (...args: unknown[]) => unknown>;
  return Object.fromEntries(names.map((name) => [name, resolverMethods[name].bind(resolver)])) as Pick<R, QueryMethod | 'resolve'>;
}

/**
 * A node:dns look-alike on a stack: `lookup`, `lookupService`, `resolve*`, `reverse`,
 * `getServers`/`setServers`, `Resolver`, `promises`, the constants, plus `hosts` (the hosts table).
 * `setServers` also steers `lookup` (there is no resolv.conf of the stack for it to read instead).
 */
export function createDns(transport: DnsTransport, options: CreateDnsOptions = {}): StackDns {
  if (typeof transport?.udpSocket !== 'function' || typeof transport?.tcpConnect !== 'function') {
    throw invalidArgType('transport', 'a DnsTransport with udpSocket() and tcpConnect()', transport);
  }
  const defaults = engineConfig(options);
  if (options.hostsFile != null && typeof options.hostsFile !== 'string') {
    throw invalidArgType('options.hostsFile', 'of type string or null', options.hostsFile);
  }
  const hosts = new HostsTable(transport.hosts ? () => transport.hosts?.() ?? [] : undefined,
    options.hostsFile === undefined ? HOST_HOSTS_FILE : options.hostsFile);
  for (const { name, address } of options.hosts ?? []) hosts.add(name, address);
  const newEngine = (resolver?: ResolverOptions) =>
    new DnsEngine(transport, hosts, { ...defaults, ...resolverOptions(resolver, defaults) });

  // A new Resolver starts from the stack's configuration, as Node's starts from resolv.conf.
  const Resolver = callbackResolverClass(newEngine);
  const PromisesResolver = promiseResolverClass(newEngine);

  // The default resolver: one engine behind both APIs, as node:dns shares one.
  const engine = newEngine();
  const cb = resolverOn(Resolver, engine);
  const p = resolverOn(PromisesResolver, engine);
  let order: ResultOrder | undefined;
  const getDefaultResultOrder = (): ResultOrder => order ?? (nodeDns.getDefaultResultOrder() as ResultOrder);
  const setDefaultResultOrder = (value: ResultOrder): void => {
    order = validateOneOf(value, 'dnsOrder', ORDERS, nodeDefaultOrderError);
  };
  const getServers = () => formatServers(engine.servers);
  // node:dns's setServers() replaces its default resolver, so it never waits for pending queries
  // (a Resolver's does): queries in flight keep the servers they started with.
  const setServers = (servers: readonly string[]) => {
    engine.servers = parseServers(servers);
  };

  return {
    lookup: makeLookup(engine, getDefaultResultOrder),
    lookupService: makeLookupService(engine),
    Resolver,
    getDefaultResultOrder,
    setDefaultResultOrder,
    getServers,
    setServers,
    /** The search suffixes (resolv.conf's `search`); an iothts extension, like `hosts`. */
    getSearch: (): string[] => [...engine.search],
    setSearch: (list: readonly string[]): void => {
      defaults.search = searchList(list);
      engine.search = defaults.search;
    },
    ...queryFunctions(cb),
    ADDRCONFIG: nodeDns.ADDRCONFIG,
    ALL: nodeDns.ALL,
    V4MAPPED: nodeDns.V4MAPPED,
    ...ERROR_CODES,
    /** The hosts table: the hosts file's entries (or the loopback names), the stack's own, then add()ed ones. */
    hosts,
    promises: {
      lookup: makePromiseLookup(engine, getDefaultResultOrder),
      lookupService: makePromiseLookupService(engine),
      Resolver: PromisesResolver,
      getDefaultResultOrder,
      setDefaultResultOrder,
      getServers,
      setServers,
      ...queryFunctions(p),
      ...ERROR_CODES,
    },
  };
}
