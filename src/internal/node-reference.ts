// The running Node as the reference, where iothts mirrors something of Node's that differs between
// releases. For an error, a public Node API that validates the same value (and throws before doing
// anything else) is called and what it says is reused; iothts's own text is only the fallback for a
// Node that does not throw. Differences seen: how "Received ..." describes objects (24 changed it),
// the order lookup() lists its orders in (20.19 and 20.20 differ), whether lookupService() checks its
// address's type first (24 does), and lookup() of an empty host name (a warning up to 24, an error
// in 26).
import type * as DnsTypes from 'node:dns';
import { EventEmitter } from 'node:events';
import { basename } from 'node:path';
import { isIP } from './ip-syntax';

interface NodeDns {
  lookup: typeof DnsTypes.lookup;
  lookupService: typeof DnsTypes.lookupService;
  getDefaultResultOrder: typeof DnsTypes.getDefaultResultOrder;
  setDefaultResultOrder: typeof DnsTypes.setDefaultResultOrder;
  Resolver: typeof DnsTypes.Resolver;
  promisesLookup: typeof DnsTypes.promises.lookup;
  hasTlsa: boolean;
}
let taken: NodeDns | undefined;

/**
 * node:dns's own functions, taken at their first use; the override calls it right before it puts
 * a stack's functions in their place, so what is taken is always Node's. node:dns is loaded only
 * then: an app that never looks a name up never loads it. (A plain require: `import * as` would
 * copy the module's every property through esModuleInterop's helper first.)
 */
export function takeNodeDns(): NodeDns {
  if (taken) return taken;
  const dns = require('node:dns') as typeof DnsTypes;
  // That require may have run the override's replacement (when-loaded.ts), which took them first.
  return taken ??= {
    lookup: dns.lookup, lookupService: dns.lookupService, getDefaultResultOrder: dns.getDefaultResultOrder,
    setDefaultResultOrder: dns.setDefaultResultOrder, Resolver: dns.Resolver, promisesLookup: dns.promises.lookup,
    hasTlsa: typeof (dns as { resolveTlsa?: unknown }).resolveTlsa === 'function',
  };
}
const addListener = EventEmitter.prototype.on;
const emitter = new EventEmitter();
const noop = (): void => undefined;

export interface NodeArgError extends Error {
  code: string;
}

/** The ERR_* error `probe` throws, re-created here (a stack from our caller, not from the probe). */
function thrownBy(probe: () => unknown): NodeArgError | undefined {
  try {
    probe();
  } catch (e) {
    const code = (e as { code?: unknown })?.code;
    if (typeof code !== 'string' || !code.startsWith('ERR_')) return undefined;
    // By name: Node's errors come from its own realm, where instanceof of a vm context's classes fails.
    const { name } = e as Error;
    const Ctor = name === 'RangeError' ? RangeError : name === 'TypeError' ? TypeError : Error;
    return Object.assign(new Ctor((e as Error).message), { code });
  }
  return undefined;
}

/** "Received ..." as the running Node's ERR_INVALID_ARG_TYPE describes `value`. */
export function nodeReceived(value: unknown): string | undefined {
  // A listener must be a function, a path a string: one of the two refuses any value.
  const e = thrownBy(() => (typeof value === 'function' ? basename(value as never) : addListener.call(emitter, 'probe', value as never)));
  const at = e?.code === 'ERR_INVALID_ARG_TYPE' ? e.message.indexOf('. Received ') : -1;
  return at < 0 ? undefined : e!.message.slice(at + 2);
}

/** What node:dns's lookup() throws for `options.order: value` (an IP literal: nothing is looked up). */
export function nodeOrderError(value: unknown): NodeArgError | undefined {
  const { lookup } = takeNodeDns();
  return thrownBy(() => lookup('127.0.0.1', { order: value } as never, noop));
}

/** What node:dns's setDefaultResultOrder() throws for `value`; the default order is left as it was. */
export function nodeDefaultOrderError(value: unknown): NodeArgError | undefined {
  const { getDefaultResultOrder, setDefaultResultOrder } = takeNodeDns();
  const before = getDefaultResultOrder();
  return thrownBy(() => {
    setDefaultResultOrder(value as never);
    setDefaultResultOrder(before);
  });
}

/** What node:dns's lookupService() throws for an `address` that is no IP address (never asked otherwise). */
export function nodeServiceAddressError(address: unknown): NodeArgError | undefined {
  if (typeof address === 'string' && isIP(address)) return undefined;
  const { lookupService } = takeNodeDns();
  return thrownBy(() => lookupService(address as never, 0, noop));
}

// A resolver of Node's own that is only ever asked to check arguments: it sends nothing.
let probe: DnsTypes.Resolver | undefined;

/** What Resolver#setLocalAddress() throws for these arguments, or undefined when Node takes them. */
export function nodeLocalAddressError(ipv4: unknown, ipv6: unknown): NodeArgError | undefined {
  probe ??= new (takeNodeDns().Resolver)();
  return thrownBy(() => probe!.setLocalAddress(ipv4 as string, ipv6 as string));
}

/**
 * What `new Resolver({ maxTimeout })` throws for this value: Node checks the option from 22 on
 * (and uses it); Node 20 takes any value and ignores it, and so does the stack's resolver there.
 */
export function nodeMaxTimeoutError(maxTimeout: unknown): NodeArgError | undefined {
  const { Resolver } = takeNodeDns();
  return thrownBy(() => new Resolver({ maxTimeout } as DnsTypes.ResolverOptions));
}

let takesMaxTimeout: boolean | undefined;
/** Whether this Node takes `maxTimeout` (22 on): it refuses a string for it. Asked once. */
export function maxTimeoutTaken(): boolean {
  return takesMaxTimeout ??= nodeMaxTimeoutError('probe') !== undefined;
}

/**
 * lookup() of an empty (falsy) host name, answered by node:dns itself: every Node answers it
 * without asking any resolver, in its own way (20 to 24: null after a DEP0118 warning; 26: an
 * ERR_INVALID_ARG_VALUE thrown, or a rejected promise).
 */
export function emptyHostnameLookup(hostname: unknown, options: unknown, callback: unknown): object {
  // (@types/node says void; Node returns its request object, {} here.)
  const { lookup } = takeNodeDns();
  return lookup(hostname as string, options as DnsTypes.LookupOptions, callback as () => void) as unknown as object;
}

export function emptyHostnamePromisesLookup(hostname: unknown, options: unknown): Promise<unknown> {
  return takeNodeDns().promisesLookup(hostname as string, options as DnsTypes.LookupOptions);
}

/**
 * Whether this Node's resolveMx, resolveCaa and resolveSrv records carry `type` ('MX', ...), as
 * resolveAny's always did: from Node 24.10 on (measured with each release's own resolver against
 * a server on 127.0.0.1: 20.19, 20.20, 22.23, 23.0, 24.0 to 24.9 without it; 24.10, 24.22, 25.0,
 * 26.12 with it; NAPTR and SOA records have it in none). A record's shape is made by Node's C++
 * and no public API shows it without a query, so the release decides here.
 */
/** Whether this Node's node:dns has resolveTlsa (22.15, 23.9 and later). */
export function nodeHasTlsa(): boolean {
  return takeNodeDns().hasTlsa;
}

export const typedRecords: boolean = (() => {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major > 24 || (major === 24 && minor >= 10);
})();
