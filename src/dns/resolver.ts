// Resolver with node:dns's callback API: same methods, same argument checks (thrown synchronously),
// same result shapes and errors (`queryMx ENOTFOUND example.com`), callbacks always called later.
// Laid out as Node's: the query methods on each Resolver class's prototype, cancel/getServers/
// setServers/setLocalAddress on the prototype of a base class (ResolverBase) that both styles share.
import { constants as osConstants } from 'node:os';
import type * as nodeDns from 'node:dns';
import type { ResolveOptions } from 'node:dns';
import { isIP } from 'node:net';
import { format } from 'node:util';
import { codedError, invalidArgType, invalidArgValue, outOfRange } from '../internal/errors';
import { maxTimeoutTaken, nodeHasTlsa, nodeLocalAddressError, nodeMaxTimeoutError } from '../internal/node-reference';
import { DEFAULT_TIMEOUT, DEFAULT_TRIES, DnsEngine } from './engine';
import { dnsError, toDnsError } from './errors';
import { QueryType } from './query';
import { formatServers, parseServers } from './servers';
import { validateFunction, validateString } from '../internal/validators';

export interface ResolverOptions {
  /** Milliseconds per attempt; -1 (or 0): the default. */
  timeout?: number;
  /** Rounds over the servers. */
  tries?: number;
  /**
   * c-ares's bound on how long its growing waits may grow (Node 22 on), checked as Node checks it.
   * The stack resolver's attempts all wait `timeout` (c-ares never waits less), so it changes nothing.
   */
  maxTimeout?: number;
}

/** Each resolve method: c-ares's name for it (the error's syscall) and the record type asked. */
export const QUERIES = {
  resolve4: ['queryA', 'A'],
  resolve6: ['queryAaaa', 'AAAA'],
  resolveAny: ['queryAny', 'ANY'],
  resolveCaa: ['queryCaa', 'CAA'],
  resolveCname: ['queryCname', 'CNAME'],
  resolveMx: ['queryMx', 'MX'],
  resolveNaptr: ['queryNaptr', 'NAPTR'],
  resolveNs: ['queryNs', 'NS'],
  resolvePtr: ['queryPtr', 'PTR'],
  resolveSoa: ['querySoa', 'SOA'],
  resolveSrv: ['querySrv', 'SRV'],
  resolveTlsa: ['queryTlsa', 'TLSA'],
  resolveTxt: ['queryTxt', 'TXT'],
  reverse: ['getHostByAddr', 'PTR'],
} as const;
export type QueryMethod = keyof typeof QUERIES;
/**
 * The query methods of both API styles, from the one table above (and resolve(), which picks one):
 * resolveTlsa where this Node has it (22.15, 23.9 and later), so a stack's resolver has exactly
 * node:dns's methods, and the override leaves none of node:dns's on the host's resolver.
 */
export const QUERY_METHODS = (Object.keys(QUERIES) as QueryMethod[]).filter((m) => m !== 'resolveTlsa' || nodeHasTlsa());

/** resolve(name, rrtype): which method serves each rrtype. */
export const RRTYPES: Readonly<Record<string, QueryMethod>> = Object.freeze({
  A: 'resolve4', AAAA: 'resolve6', ANY: 'resolveAny', CAA: 'resolveCaa', CNAME: 'resolveCname',
  MX: 'resolveMx', NAPTR: 'resolveNaptr', NS: 'resolveNs', PTR: 'resolvePtr', SOA: 'resolveSoa',
  SRV: 'resolveSrv', TXT: 'resolveTxt', ...(nodeHasTlsa() ? { TLSA: 'resolveTlsa' as const } : {}),
});

export function methodFor(rrtype: string): QueryMethod {
  if (!Object.hasOwn(RRTYPES, rrtype)) throw invalidArgValue('rrtype', rrtype, 'is invalid');
  return RRTYPES[rrtype];
}

function int32(name: string, value: unknown, min: number, max = 2 ** 31 - 1): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  const error = !Number.isInteger(value) ? 'an integer' : value < min || value > max ? `>= ${min} && <= ${max}` : null;
  if (error) {
    throw outOfRange(name, error, value);
  }
  return value;
}

/** maxTimeout where this Node takes it (22 on), with its checks (a uint32); on Node 20 any value. */
function checkMaxTimeout(value: unknown): void {
  if (value === undefined || !maxTimeoutTaken()) return;
  try {
    int32('options.maxTimeout', value, 0, 2 ** 32 - 1);
  } catch (ours) {
    throw nodeMaxTimeoutError(value) ?? ours;
  }
}

/** new Resolver(options): Node's checks; -1 and 0 mean the defaults given. */
export function resolverOptions(
  options: unknown, defaults = { timeout: DEFAULT_TIMEOUT, tries: DEFAULT_TRIES },
): { timeout: number; tries: number } {
  const { timeout = -1, tries = defaults.tries, maxTimeout } = { ...(options as object) } as ResolverOptions;
  const ms = int32('options.timeout', timeout, -1);
  const checked = { timeout: ms > 0 ? ms : defaults.timeout, tries: int32('options.tries', tries, 1) };
  checkMaxTimeout(maxTimeout); // after the others, as Node checks it
  return checked;
}

/** reverse() refuses a non-address synchronously, as c-ares's getHostByAddr does (EINVAL). */
export function checkReverse(address: string): void {
  if (isIP(address)) return;
  const error = dnsError('EINVAL', 'getHostByAddr', address);
  error.errno = -osConstants.errno.EINVAL;
  throw error;
}

// Each resolver's engine, out of sight: a resolver has no property of iothts's own to see.
const engines = new WeakMap<object, DnsEngine>();

function engineOf(resolver: unknown): DnsEngine {
  const engine = engines.get(resolver as object);
  if (!engine) throw invalidArgType('this', 'a Resolver', resolver);
  return engine;
}

/** A resolver of `Class` on an engine that already exists (the module's default resolver). */
export function resolverOn<T extends object>(Class: { prototype: T }, engine: DnsEngine): T {
  const resolver = Object.create(Class.prototype) as T;
  engines.set(resolver, engine);
  return resolver;
}

/** What both Resolver styles share: server management, source addresses, cancellation. */
export class ResolverBase {
  // (A rest parameter: the length is 0, as Node's constructors'.)
  constructor(...[engine]: [DnsEngine]) {
    engines.set(this, engine);
  }

  getServers(): string[] {
    return formatServers(engineOf(this).servers);
  }

  /** Refused while queries of this resolver wait for a server, as c-ares refuses it. */
  setServers(servers: readonly string[]): void {
    const parsed = parseServers(servers);
    const engine = engineOf(this);
    if (engine.pending > 0) {
      // Node's ERR_DNS_SET_SERVERS_FAILED with c-ares's ARES_ESETSRVPENDING text (the same from Node 8
      // to 26, and only seen with a query in flight: the test compares it with Node's in the run).
      throw codedError('ERR_DNS_SET_SERVERS_FAILED',
        `c-ares failed to set servers: "There are pending queries." [${format('%s', servers)}]`);
    }
    engine.servers = parsed;
  }

  /**
   * The source addresses of this resolver's queries: an IPv4 and/or an IPv6 address of the stack,
   * in either order; the family not given goes back to "any". Node's checks and errors.
   */
  setLocalAddress(ipv4: string, ipv6?: string): void {
    const engine = engineOf(this);
    const refused = nodeLocalAddressError(ipv4, ipv6);
    const first = typeof ipv4 === 'string' ? isIP(ipv4) : 0;
    if (refused) {
      // Node takes the first address before it refuses a second (c-ares's channel keeps it).
      if (first && typeof ipv6 === 'string') engine.local = { ...engine.local, [first]: ipv4 };
      throw refused;
    }
    if (!first) throw invalidArgValue('ipv4', ipv4, 'must be an IP address'); // (Node took it: never seen)
    const second = typeof ipv6 === 'string' ? isIP(ipv6) : 0;
    engine.local = { [first]: ipv4, ...(second ? { [second]: ipv6 } : {}) };
  }

  /** Ends every query of this resolver in flight with ECANCELLED. */
  cancel(): void {
    engineOf(this).cancel();
  }
}

/** Runs a query method after Node's checks; the promise carries the node:dns error. */
export function runQuery(
  resolver: unknown, method: QueryMethod, name: unknown, options: unknown,
): Promise<unknown> {
  const engine = engineOf(resolver);
  const hostname = validateString(name, 'name');
  const [syscall, type] = QUERIES[method];
  if (method === 'reverse') checkReverse(hostname);
  const ttl = Boolean(options && (options as ResolveOptions).ttl);
  const result = method === 'reverse' ? engine.reverse(hostname) : engine.resolve(hostname, type as QueryType, ttl);
  return result.catch((err) => {
    throw toDnsError(err, syscall, hostname);
  });
}

/** Puts `methods` on `prototype` as Node's classes get theirs: by assignment (enumerable, writable). */
export function assignMethods(prototype: object, methods: Record<string, unknown>): void {
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(prototype, name, { value: fn, writable: true, configurable: true, enumerable: true });
  }
}

/** The callback of a query: an error with node:dns's code, or the result. */
export type Callback<T> = (err: NodeJS.ErrnoException | null, result: T) => void;

/** What a query method returns while the query is in flight: the fields of Node's QueryReqWrap. */
export interface QueryRequest {
  bindingName: string;
  callback: Callback<unknown>;
  hostname: string;
  ttl: boolean;
}

/** A TLSA record as node:dns's resolveTlsa() gives it (Node 22.15, 23.9 and later). */
export interface TlsaRecord {
  certUsage: number;
  selector: number;
  match: number;
  /** The certificate association data. */
  data: ArrayBuffer;
}

/** The query methods @types/node types (resolveTlsa is newer than the types this package uses). */
export type TypedQueryMethod = Exclude<QueryMethod, 'resolveTlsa'>;

/** The callback-style Resolver, typed as node:dns's Resolver types its query methods. */
export interface Resolver extends ResolverBase, Pick<nodeDns.Resolver, TypedQueryMethod | 'resolve'> {
  /** Where this Node has it (22.15, 23.9 and later): the TLSA records of `hostname`. */
  resolveTlsa?(hostname: string, callback: Callback<TlsaRecord[]>): QueryRequest;
}

// (name, callback) or (name, options, callback), as node:dns reads them.
function callQuery(resolver: unknown, method: QueryMethod, args: unknown[]): QueryRequest {
  const [name, options, callback] = args.length > 2 ? args : [args[0], undefined, args[1]];
  const hostname = validateString(name, 'name');
  const cb = validateFunction<Callback<unknown>>(callback, 'callback');
  const ttl = Boolean(options && (options as ResolveOptions).ttl);
  const request = { bindingName: QUERIES[method][0], callback: cb, hostname, ttl };
  // Callbacks run from nextTick, outside the promise: an exception in one is uncaught, as in Node.
  runQuery(resolver, method, hostname, options).then(
    (result) => process.nextTick(cb, null, result),
    (err) => process.nextTick(cb, err),
  );
  return request;
}

/**
 * A callback-style Resolver class whose `new` makes its engine with `engineFor(options)`: one per
 * stack, so that a new Resolver starts from that stack's servers.
 */
// (The class inside is named Resolver, as Node's: this name is the interface above.)
type CallbackStyle = Resolver;

export function callbackResolverClass(
  engineFor: (options?: ResolverOptions) => DnsEngine,
): new (options?: ResolverOptions) => CallbackStyle {
  class Resolver extends ResolverBase {
    constructor(...[options]: [ResolverOptions?]) {
      super(engineFor(options));
    }
  }
  // One method per row of QUERIES, as Node's createResolverClass makes them; (name, callback) is
  // their length, as Node's.
  const methods: Record<string, unknown> = {};
  for (const method of QUERY_METHODS) {
    methods[method] = {
      [method](this: CallbackStyle, name: unknown, callback: unknown, ...rest: unknown[]): QueryRequest {
        return callQuery(this, method, [name, callback, ...rest]);
      },
    }[method];
  }
  methods.resolve = function resolve(this: CallbackStyle, hostname: unknown, rrtype: unknown,
    callback: unknown): QueryRequest {
    if (typeof rrtype === 'function') return callQuery(this, 'resolve4', [hostname, rrtype]);
    if (typeof rrtype !== 'string') throw invalidArgType('rrtype', 'of type string', rrtype);
    return callQuery(this, methodFor(rrtype), [hostname, callback]);
  };
  assignMethods(Resolver.prototype, methods);
  return Resolver as unknown as new (options?: ResolverOptions) => CallbackStyle;
}
