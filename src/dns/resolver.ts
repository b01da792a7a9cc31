// Resolver with node:dns's callback API: same methods, same argument checks (thrown synchronously),
// same result shapes and errors (`queryMx ENOTFOUND example.com`), callbacks always called later.
import { constants as osConstants } from 'node:os';
import type * as nodeDns from 'node:dns';
import type { ResolveOptions } from 'node:dns';
import { isIP } from 'node:net';
import { invalidArgType, invalidArgValue, outOfRange } from '../internal/errors';
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
  resolveTxt: ['queryTxt', 'TXT'],
  reverse: ['getHostByAddr', 'PTR'],
} as const;
export type QueryMethod = keyof typeof QUERIES;
/** The query methods of both API styles, from the one table above (and resolve(), which picks one). */
export const QUERY_METHODS = Object.keys(QUERIES) as QueryMethod[];

/** resolve(name, rrtype): which method serves each rrtype. */
export const RRTYPES: Readonly<Record<string, QueryMethod>> = Object.freeze({
  A: 'resolve4', AAAA: 'resolve6', ANY: 'resolveAny', CAA: 'resolveCaa', CNAME: 'resolveCname',
  MX: 'resolveMx', NAPTR: 'resolveNaptr', NS: 'resolveNs', PTR: 'resolvePtr', SOA: 'resolveSoa',
  SRV: 'resolveSrv', TXT: 'resolveTxt',
});

export function methodFor(rrtype: string): QueryMethod {
  if (!Object.hasOwn(RRTYPES, rrtype)) throw invalidArgValue('rrtype', rrtype, 'is invalid');
  return RRTYPES[rrtype];
}

function int32(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  const error = !Number.isInteger(value) ? 'an integer' : value < min || value > 2 ** 31 - 1 ? `>= ${min} && <= ${2 ** 31 - 1}` : null;
  if (error) {
    throw outOfRange(name, error, value);
  }
  return value;
}

/** new Resolver(options): Node's checks; -1 and 0 mean the defaults given. */
export function resolverOptions(
  options: unknown, defaults = { timeout: DEFAULT_TIMEOUT, tries: DEFAULT_TRIES },
): { timeout: number; tries: number } {
  const { timeout = -1, tries = defaults.tries } = { ...(options as object) } as ResolverOptions;
  const ms = int32('options.timeout', timeout, -1);
  return { timeout: ms > 0 ? ms : defaults.timeout, tries: int32('options.tries', tries, 1) };
}

/** reverse() refuses a non-address synchronously, as c-ares's getHostByAddr does (EINVAL). */
export function checkReverse(address: string): void {
  if (isIP(address)) return;
  const error = dnsError('EINVAL', 'getHostByAddr', address);
  error.errno = -osConstants.errno.EINVAL;
  throw error;
}

/** What both Resolver styles share: the engine and server management. */
export class ResolverBase {
  protected readonly engine: DnsEngine;

  constructor(engine: DnsEngine) {
    this.engine = engine;
  }

  getServers(): string[] {
    return formatServers(this.engine.servers);
  }

  setServers(servers: readonly string[]): void {
    this.engine.servers = parseServers(servers);
  }

  /** Ends every query of this resolver in flight with ECANCELLED. */
  cancel(): void {
    this.engine.cancel();
  }

  /** Runs a query method after Node's checks; the promise carries the node:dns error. */
  protected run(method: QueryMethod, name: unknown, options: unknown): Promise<unknown> {
    const hostname = validateString(name, 'name');
    const [syscall, type] = QUERIES[method];
    if (method === 'reverse') checkReverse(hostname);
    const ttl = Boolean(options && (options as ResolveOptions).ttl);
    const result = method === 'reverse' ? this.engine.reverse(hostname) : this.engine.resolve(hostname, type as QueryType, ttl);
    return result.catch((err) => {
      throw toDnsError(err, syscall, hostname);
    });
  }
}

/** The callback of a query: an error with node:dns's code, or the result. */
export type Callback<T> = (err: NodeJS.ErrnoException | null, result: T) => void;

/** The query methods of the callback style, typed as node:dns's Resolver types them. */
// Lint: the static block installs these methods on the prototype; merging only gives them node:dns's types.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface Resolver extends Pick<nodeDns.Resolver, QueryMethod> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class Resolver extends ResolverBase {
  // (name, callback) or (name, options, callback), as node:dns reads them.
  #call(method: QueryMethod, args: unknown[]): void {
    const [name, options, callback] = args.length > 2 ? args : [args[0], undefined, args[1]];
    const hostname = validateString(name, 'name');
    const cb = validateFunction<Callback<unknown>>(callback, 'callback');
    // Callbacks run from nextTick, outside the promise: an exception in one is uncaught, as in Node.
    this.run(method, hostname, options).then(
      (result) => process.nextTick(cb, null, result),
      (err) => process.nextTick(cb, err),
    );
  }

  resolve(hostname: string, callback: Callback<string[]>): void;
  resolve(hostname: string, rrtype: string, callback: Callback<unknown>): void;
  resolve(hostname: string, rrtype: unknown, callback?: unknown): void {
    if (typeof rrtype === 'function') return this.#call('resolve4', [hostname, rrtype]);
    if (typeof rrtype !== 'string') throw invalidArgType('rrtype', 'of type string', rrtype);
    this.#call(methodFor(rrtype), [hostname, callback]);
  }

  // One method per row of QUERIES, as Node's createResolverClass makes them: on the prototype,
  // named, not enumerable. Their types are node:dns's (the interface below).
  static {
    for (const method of QUERY_METHODS) {
      const { [method]: fn } = { [method](this: Resolver, ...args: unknown[]): void { this.#call(method, args); } };
      Object.defineProperty(Resolver.prototype, method, { value: fn, writable: true, configurable: true });
    }
  }
}
