// The resolution machinery behind every API style: servers, search list, timeout and tries, the
// hosts table, and cancellation. It asks the servers through the transport and gives results in
// node:dns's shapes, or throws DnsFailure with the code node:dns would report.
import { setMaxListeners } from 'node:events';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { parseIp } from '../internal/address';
import { DnsFailure, NO_SERVER } from './errors';
import type { HostsTable } from './hosts';
import { query, QueryType, Reply } from './query';
import { toResult } from './records';
import type { DnsServer } from './servers';
import type { DnsTransport } from './transport';

export interface EngineConfig {
  servers: DnsServer[];
  /** Suffixes tried for names without a trailing dot, like resolv.conf's `search`. */
  search: string[];
  /** Names with fewer dots than this try the search suffixes first. */
  ndots: number;
  /** Milliseconds per attempt. */
  timeout: number;
  /** Rounds over the servers. */
  tries: number;
}

/** The source addresses of the queries, per family (setLocalAddress()); none: the stack picks. */
export type LocalAddresses = Partial<Record<4 | 6, string>>;

export const DEFAULT_TIMEOUT = 5000; // resolv.conf's default
export const DEFAULT_TRIES = 4; // node:dns's default

/** The wire form of a name: ASCII (IDNA for others), labels of 1 to 63 bytes, at most 253 in all. */
function wireName(name: string): string | null {
  const ascii = /^[\x20-\x7e]*$/.test(name) ? name : domainToASCII(name);
  if (!ascii) return null;
  const bare = ascii.replace(/\.$/, '');
  if (bare === '') return '';
  if (bare.length > 253 || bare.split('.').some((label) => label.length === 0 || label.length > 63)) return null;
  return bare;
}

/** in-addr.arpa / ip6.arpa name of an address. */
export function reverseName(address: string): string {
  const { family, bytes } = parseIp('address', address.split('%')[0]);
  if (family === 4) return `${[...bytes].reverse().join('.')}.in-addr.arpa`;
  return `${[...bytes.toString('hex')].reverse().join('.')}.ip6.arpa`;
}

export class DnsEngine {
  servers: DnsServer[];
  search: string[];
  ndots: number;
  timeout: number;
  tries: number;
  local: LocalAddresses = {};
  #controller = new AbortController();
  #pending = 0;

  constructor(readonly transport: DnsTransport, readonly hosts: HostsTable, config: EngineConfig) {
    ({
      servers: this.servers, search: this.search, ndots: this.ndots, timeout: this.timeout, tries: this.tries,
    } = config);
    setMaxListeners(0, this.#controller.signal); // one listener per query in flight
  }

  /** Ends every query in flight with ECANCELLED; none is pending any more, at once (as c-ares's). */
  cancel(): void {
    this.#controller.abort();
    this.#controller = new AbortController();
    this.#pending = 0;
    setMaxListeners(0, this.#controller.signal);
  }

  /** Queries of resolve*()/reverse() waiting for a server: setServers() refuses while there are any. */
  get pending(): number {
    return this.#pending;
  }

  /** Counts `work` as pending until it settles (or cancel()); the count drops before its callers see it. */
  #track<T>(work: Promise<T>): Promise<T> {
    const generation = this.#controller;
    this.#pending++;
    return work.finally(() => {
      if (this.#controller === generation) this.#pending--;
    });
  }

  /**
   * The names to ask for `name`, in order, as resolv.conf does: with a trailing dot only the name;
   * with at least `ndots` dots the name, then the search suffixes; otherwise the reverse.
   */
  candidates(name: string): string[] {
    const wire = wireName(name);
    if (wire === null) throw new DnsFailure('EBADNAME');
    if (wire === '' || name.endsWith('.')) return [wire];
    const searched = this.search.map((s) => wireName(`${wire}.${s}`)).filter((n): n is string => n !== null);
    return wire.split('.').length - 1 >= this.ndots ? [wire, ...searched] : [...searched, wire];
  }

  /** One question to the servers, no search list. */
  ask(qname: string, type: QueryType): Promise<Reply> {
    if (this.servers.length === 0) return Promise.reject(new DnsFailure('ECONNREFUSED', NO_SERVER));
    return query(this.transport, qname, type, {
      servers: [...this.servers], timeout: this.timeout, tries: this.tries, signal: this.#controller.signal,
      local: { ...this.local },
    });
  }

  /**
   * `name`'s records of `type` in node:dns's shape, through the search list. Like c-ares, the next
   * candidate is tried after ENOTFOUND, ENODATA or ESERVFAIL, and ENODATA wins over ENOTFOUND.
   */
  resolve(name: string, type: QueryType, ttl = false): Promise<unknown> {
    const work = this.#resolve(name, type, ttl);
    return this.servers.length === 0 ? work : this.#track(work);
  }

  async #resolve(name: string, type: QueryType, ttl: boolean): Promise<unknown> {
    const candidates = this.candidates(name);
    let nodata = false;
    let last: unknown;
    for (const candidate of candidates) {
      try {
        return toResult(await this.ask(candidate, type), candidate, type, ttl);
      } catch (err) {
        if (!(err instanceof DnsFailure) || !['ENOTFOUND', 'ENODATA', 'ESERVFAIL'].includes(err.code)) throw err;
        nodata ||= err.code === 'ENODATA';
        last = err;
      }
    }
    throw nodata ? new DnsFailure('ENODATA') : last;
  }

  /** The names of an address: the hosts table's, else the PTR records. */
  async reverse(address: string): Promise<string[]> {
    if (!isIP(address)) throw new DnsFailure('EINVAL');
    const names = this.hosts.names(address);
    if (names.length > 0) return names;
    const qname = reverseName(address);
    const asked = this.ask(qname, 'PTR');
    return toResult(await (this.servers.length === 0 ? asked : this.#track(asked)), qname, 'PTR') as string[];
  }
}
