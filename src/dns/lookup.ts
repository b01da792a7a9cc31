// lookup() and lookupService() with node:dns's semantics (getaddrinfo/getnameinfo), answered from
// the hosts table and then the stack's DNS servers, never the host's resolver.
import * as nodeDns from 'node:dns';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { destinationOrder, isLoopback6 } from './address-order';
import { DnsEngine, reverseName } from './engine';
import { DnsFailure, NO_SERVER, toDnsError } from './errors';
import { emptyHostnameLookup, emptyHostnamePromisesLookup, nodeOrderError, nodeServiceAddressError } from '../internal/node-reference';
import { promisifiesAs } from './promisify';
import { toResult } from './records';
import { serviceName } from './services';
import { invalidArgType, invalidArgValue, missingArgs } from '../internal/errors';
import { validateBoolean, validateFunction, validateOneOf, validatePort, validateString } from '../internal/validators';

export type ResultOrder = 'verbatim' | 'ipv4first' | 'ipv6first';
export const ORDERS: readonly ResultOrder[] = ['verbatim', 'ipv4first', 'ipv6first'];
export interface LookupAddress {
  address: string;
  family: 4 | 6;
}
interface Settings {
  family: 0 | 4 | 6;
  hints: number;
  all: boolean;
  order: ResultOrder;
}
/** lookup()'s callback for one address (no `all: true`), as node:dns calls it. */
export type LookupOne = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;
/** lookup()'s callback in any form: one address, or the list with `all: true`. */
export type LookupCallback =
  (err: NodeJS.ErrnoException | null, address?: string | LookupAddress[] | null, family?: number) => void;

const { ADDRCONFIG, V4MAPPED, ALL } = nodeDns;
const FAMILIES = [0, 4, 6] as const;

/** The options object of lookup(), checked in Node's order with Node's errors. */
function readOptions(options: Record<string, unknown> | null | undefined, order: ResultOrder): Settings {
  const s: Settings = { family: 0, hints: 0, all: false, order };
  if (options?.hints != null) {
    if (typeof options.hints !== 'number') throw invalidArgType('options.hints', 'of type number', options.hints);
    s.hints = options.hints >>> 0;
    if ((s.hints & ~(ADDRCONFIG | ALL | V4MAPPED)) !== 0) throw invalidArgValue('hints', s.hints, 'is invalid');
  }
  if (options?.family != null) {
    s.family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : validateOneOf(options.family, 'options.family', FAMILIES);
  }
  if (options?.all != null) s.all = validateBoolean(options.all, 'options.all');
  if (options?.verbatim != null) s.order = validateBoolean(options.verbatim, 'options.verbatim') ? 'verbatim' : 'ipv4first';
  if (options?.order != null) s.order = validateOneOf(options.order, 'options.order', ORDERS, nodeOrderError);
  return s;
}

/** The stack's families for ADDRCONFIG (loopback and link-local do not count), or null: no filter. */
function configuredFamilies(engine: DnsEngine): { 4: boolean; 6: boolean } | null {
  const interfaces = engine.transport.interfaces?.();
  if (!interfaces) return null;
  const has = { 4: false, 6: false };
  for (const a of Object.values(interfaces).flat()) {
    if (!a || a.internal) continue;
    if (String(a.family).endsWith('4')) has[4] = true;
    else if (!/^fe[89ab]/i.test(a.address)) has[6] = true;
  }
  return has[4] || has[6] ? has : null; // glibc too filters nothing when neither is configured
}

/** The name as getaddrinfo sends it: ASCII, IDNA for others (as libuv converts it). */
function asciiName(hostname: string): string {
  return [...hostname].every((c) => c.charCodeAt(0) < 0x80) ? hostname : domainToASCII(hostname);
}

/**
 * Whether glibc's resolver would ask DNS for this name (res_hnok): labels of 1 to 63 letters,
 * digits, '-' or '_', at most 253 characters (a final dot aside), the first label not starting with
 * '-'. For any other name getaddrinfo answers ENOTFOUND without asking a server.
 */
function askable(ascii: string): boolean {
  if (ascii === '.') return true;
  const bare = ascii.endsWith('.') ? ascii.slice(0, -1) : ascii;
  return bare.length > 0 && bare.length <= 253 && !bare.startsWith('-') &&
    bare.split('.').every((label) => /^[A-Za-z0-9_-]{1,63}$/.test(label));
}

/** A and/or AAAA of `hostname` through the search list; NXDOMAIN/NODATA everywhere: ENOTFOUND. */
async function fromDns(engine: DnsEngine, hostname: string, families: Array<4 | 6>): Promise<LookupAddress[]> {
  if (!askable(asciiName(hostname))) throw new DnsFailure('ENOTFOUND');
  // As getaddrinfo when no resolver answers (an empty network namespace): EAI_AGAIN, for now.
  if (engine.servers.length === 0) throw new DnsFailure('EAI_AGAIN', NO_SERVER);
  let transient = false;
  let candidates: string[];
  try {
    candidates = engine.candidates(hostname);
  } catch {
    throw new DnsFailure('ENOTFOUND');
  }
  for (const name of candidates) {
    const settled = await Promise.allSettled(families.map(async (family) => {
      const addresses = toResult(await engine.ask(name, family === 4 ? 'A' : 'AAAA'), name, family === 4 ? 'A' : 'AAAA') as string[];
      return addresses.map((address) => ({ address, family }));
    }));
    const found = settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    if (found.length > 0) return found;
    for (const r of settled) {
      if (r.status !== 'rejected') continue;
      if (!(r.reason instanceof DnsFailure)) throw r.reason; // e.g. the stack is closed
      if (r.reason.code !== 'ENOTFOUND' && r.reason.code !== 'ENODATA') transient = true;
    }
  }
  // getaddrinfo's EAI_AGAIN for what may work later (timeouts, SERVFAIL, REFUSED, ...).
  throw new DnsFailure(transient ? 'EAI_AGAIN' : 'ENOTFOUND');
}

/**
 * The hosts table's answers as glibc's files module gives them: for both families (AF_UNSPEC) in
 * table order; otherwise one query per family, IPv6 first, and for the IPv4 one an IPv6 loopback
 * entry (`::1 localhost`) answers as 127.0.0.1 — so a name listed with both loopbacks gets
 * 127.0.0.1 twice there, as natively (Debian's /etc/hosts lists localhost with both).
 */
function fromHosts(engine: DnsEngine, hostname: string, families: 0 | Array<4 | 6>): LookupAddress[] {
  const entries = engine.hosts.addresses(hostname).map(({ address, family }) => ({ address, family }));
  if (families === 0) return entries;
  const v6 = families.includes(6) ? entries.filter((e) => e.family === 6) : [];
  const v4 = !families.includes(4) ? [] : entries.flatMap((e): LookupAddress[] => {
    if (e.family === 4) return [e];
    return isLoopback6(e.address) ? [{ address: '127.0.0.1', family: 4 }] : [];
  });
  return [...v6, ...v4];
}


/**
 * getaddrinfo(): hosts table, then DNS; V4MAPPED, ADDRCONFIG and the result order applied.
 * 'verbatim' is getaddrinfo's own order: glibc's destination address selection on the stack
 * (address-order.ts); 'ipv4first' and 'ipv6first' then move one family ahead, as Node does.
 */
async function addresses(engine: DnsEngine, hostname: string, s: Settings): Promise<LookupAddress[]> {
  const mapped = s.family === 6 && (s.hints & V4MAPPED) !== 0;
  const families: Array<4 | 6> = s.family === 4 ? [4] : s.family === 6 ? (mapped ? [6, 4] : [6]) : [4, 6];
  let list = fromHosts(engine, hostname, s.family === 0 ? 0 : families);
  if (list.length === 0) list = await fromDns(engine, hostname, families);
  if (mapped) {
    // IPv4 as ::ffff:a.b.c.d when there is no IPv6 address, or always with ALL (RFC 3493).
    const v6 = list.filter((a) => a.family === 6);
    const v4 = v6.length === 0 || (s.hints & ALL) !== 0 ? list.filter((a) => a.family === 4) : [];
    list = [...v6, ...v4.map((a) => ({ address: `::ffff:${a.address}`, family: 6 as const }))];
  }
  const configured = (s.hints & ADDRCONFIG) !== 0 ? configuredFamilies(engine) : null;
  if (configured) list = list.filter((a) => configured[a.address.startsWith('::ffff:') ? 4 : a.family]);
  if (list.length === 0) throw new DnsFailure('ENOTFOUND');
  list = await destinationOrder(engine.transport, list);
  if (s.order === 'verbatim') return list;
  const first = s.order === 'ipv4first' ? 4 : 6;
  return [...list.filter((a) => a.family === first), ...list.filter((a) => a.family !== first)];
}

/** libuv refuses a name whose ASCII form does not fit its 256-byte buffer, before anything is asked. */
function tooLong(hostname: string): boolean {
  return asciiName(hostname).length > 255;
}

/** A lookup after the argument checks: literals answered without asking anyone. */
function resolveLookup(engine: DnsEngine, hostname: unknown, s: Settings): Promise<LookupAddress[]> | LookupAddress[] {
  const literal = isIP(hostname as string);
  if (literal) return [{ address: hostname as string, family: literal as 4 | 6 }];
  return (tooLong(hostname as string) ? Promise.reject(new DnsFailure('EINVAL')) : addresses(engine, hostname as string, s)).catch((err) => {
    throw toDnsError(err, 'getaddrinfo', hostname as string);
  });
}

/** What lookup() returns while it runs: the fields of Node's GetAddrInfoReqWrap ({} for a literal). */
export interface LookupRequest {
  callback?: LookupCallback;
  family?: number;
  hostname?: string;
}

/** dns.lookup(hostname[, options], callback) for one engine. */
export function makeLookup(engine: DnsEngine, defaultOrder: () => ResultOrder) {
  return promisifiesAs(function lookup(hostname: string, options: unknown, callback?: LookupCallback): LookupRequest {
    if (hostname) validateString(hostname, 'hostname');
    let s: Settings;
    if (typeof options === 'function') {
      callback = options as LookupCallback;
      s = readOptions(undefined, defaultOrder());
    } else if (typeof options === 'number') {
      validateFunction(callback, 'callback');
      s = { ...readOptions(undefined, defaultOrder()), family: validateOneOf(options, 'family', FAMILIES) };
    } else if (options !== undefined && typeof options !== 'object') {
      validateFunction(arguments.length === 2 ? options : callback, 'callback');
      throw invalidArgType('options', 'of type object or integer', options);
    } else {
      validateFunction(callback, 'callback');
      s = readOptions(options as Record<string, unknown>, defaultOrder());
    }
    const cb = callback as LookupCallback;
    // No name: node:dns answers (or refuses) it itself, as this Node does, without a resolver.
    if (!hostname) return emptyHostnameLookup(hostname, { family: s.family, all: s.all }, cb);
    const answer = (list: LookupAddress[]) => (s.all ? cb(null, list) : cb(null, list[0].address, list[0].family));
    // Refused by libuv at once: Node reports it from nextTick and has no request to return.
    if (tooLong(hostname)) {
      process.nextTick(cb, toDnsError(new DnsFailure('EINVAL'), 'getaddrinfo', hostname));
      return {};
    }
    const result = resolveLookup(engine, hostname, s);
    if (Array.isArray(result)) {
      process.nextTick(answer, result);
      return {};
    }
    result.then((list) => process.nextTick(answer, list), (err) => process.nextTick(cb, err));
    return { callback: cb, family: s.family, hostname };
  }, ['address', 'family']) as {
    (hostname: string, callback: LookupOne): LookupRequest;
    (hostname: string, options: number | (nodeDns.LookupOneOptions & { order?: ResultOrder }),
      callback: LookupOne): LookupRequest;
    (hostname: string, options: nodeDns.LookupAllOptions & { order?: ResultOrder },
      callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void): LookupRequest;
    (hostname: string, options: nodeDns.LookupOptions & { order?: ResultOrder },
      callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
    ): LookupRequest;
  };
}

/** dns.promises.lookup(hostname[, options]) for one engine. */
export function makePromiseLookup(engine: DnsEngine, defaultOrder: () => ResultOrder) {
  return function lookup(hostname: string, options?: unknown): Promise<LookupAddress | LookupAddress[]> {
    if (hostname) validateString(hostname, 'hostname');
    let s: Settings;
    if (typeof options === 'number') {
      s = { ...readOptions(undefined, defaultOrder()), family: validateOneOf(options, 'family', FAMILIES) };
    } else if (options !== undefined && typeof options !== 'object') {
      throw invalidArgType('options', 'of type object or integer', options);
    } else {
      s = readOptions(options as Record<string, unknown>, defaultOrder());
    }
    if (!hostname) {
      return emptyHostnamePromisesLookup(hostname, { family: s.family, all: s.all }) as Promise<LookupAddress>;
    }
    return Promise.resolve(resolveLookup(engine, hostname, s)).then((list) => (s.all ? list : list[0]));
  } as {
    (hostname: string, options: nodeDns.LookupAllOptions & { order?: ResultOrder }): Promise<LookupAddress[]>;
    (hostname: string, options?: number | (nodeDns.LookupOneOptions & { order?: ResultOrder })): Promise<LookupAddress>;
    (hostname: string, options: nodeDns.LookupOptions & { order?: ResultOrder }):
      Promise<LookupAddress | LookupAddress[]>;
  };
}

/** getnameinfo() with NI_NAMEREQD, as Node calls it: a name is required, the service may be a number. */
async function nameInfo(
  engine: DnsEngine, address: string, port: number,
): Promise<{ hostname: string; service: string }> {
  const service = serviceName(port);
  const known = engine.hosts.names(address)[0];
  if (known) return { hostname: known, service };
  if (engine.servers.length === 0) throw new DnsFailure('EAI_AGAIN', NO_SERVER);
  const qname = reverseName(address);
  try {
    return { hostname: (toResult(await engine.ask(qname, 'PTR'), qname, 'PTR') as string[])[0], service };
  } catch (err) {
    if (!(err instanceof DnsFailure)) throw err;
    throw new DnsFailure(err.code === 'ENOTFOUND' || err.code === 'ENODATA' ? 'ENOTFOUND' : 'EAI_AGAIN');
  }
}

function checkService(address: unknown, port: unknown): [string, number] {
  // Node 20 and 22 check only isIP(address) (a number is "invalid"); 24 checks the type first.
  if (typeof address !== 'string' || !isIP(address)) throw nodeServiceAddressError(address) ?? invalidArgValue('address', address, 'is invalid');
  return [address, validatePort(port)];
}

/** dns.lookupService(address, port, callback) for one engine. */
export function makeLookupService(engine: DnsEngine) {
  return promisifiesAs(function lookupService(address: string, port: number,
    callback: (err: NodeJS.ErrnoException | null, hostname: string, service: string) => void): object {
    if (arguments.length !== 3) throw missingArgs('address', 'port', 'callback');
    const [ip, p] = checkService(address, port);
    validateFunction(callback, 'callback');
    nameInfo(engine, ip, p).then(
      ({ hostname, service }) => process.nextTick(callback, null, hostname, service),
      (err) => process.nextTick(callback, toDnsError(err, 'getnameinfo', ip)),
    );
    // The fields of Node's GetNameInfoReqWrap.
    return { callback, hostname: ip, port: p };
  }, ['hostname', 'service']);
}

/** dns.promises.lookupService(address, port) for one engine. */
export function makePromiseLookupService(engine: DnsEngine) {
  return function lookupService(address: string, port: number): Promise<{ hostname: string; service: string }> {
    if (arguments.length !== 2) throw missingArgs('address', 'port');
    const [ip, p] = checkService(address, port);
    return nameInfo(engine, ip, p).catch((err) => {
      throw toDnsError(err, 'getnameinfo', ip);
    });
  };
}
