// ipRouteAdd/ipRouteDel's arguments, checked and made into what the netlink call takes: iothpy's
// positional order (gateway, dst, prefixLen, ifindex) or the options form ({ gateway, dst, ... }).
// The family comes from the addresses. Pure but for the interface lookup, which is passed in.
import { Family, ParsedIp, parseIp, parsePrefixLen } from '../internal/address';
import { invalidArgValue } from '../internal/errors';
import type { InterfaceRef, RouteSpec } from './types';

export interface Route {
  family: Family;
  dst: ParsedIp | null;
  dstLen: number;
  gateway: ParsedIp | null;
  ifindex: number;
  /** "10.1.0.0/16 via 10.0.0.254 dev 2", for messages. */
  text: string;
}

/** The options form, spread into the positional one (an object first argument). */
export function routeSpec(
  first: unknown,
): [string | null, string | null | undefined, number | undefined, InterfaceRef | undefined] {
  const spec = first as RouteSpec;
  for (const key of Object.keys(spec)) {
    if (!['gateway', 'dst', 'prefixLen', 'ifindex'].includes(key)) {
      throw invalidArgValue('route', first, `has an unknown property "${key}" (gateway, dst, prefixLen, ifindex)`);
    }
  }
  return [spec.gateway ?? null, spec.dst, spec.prefixLen, spec.ifindex];
}

export function parseRoute(
  gateway: unknown, dst: unknown, prefixLen: number | undefined, ifindex: InterfaceRef | undefined,
  resolveInterface: (ref: InterfaceRef) => number,
): Route {
  const gw = gateway === null || gateway === undefined ? null : parseIp('gateway', gateway);
  let dstText = (dst ?? null) as string | null;
  let len = prefixLen;
  if (typeof dstText === 'string' && dstText.includes('/')) {
    const [a, l] = dstText.split('/');
    if (!/^\d{1,3}$/.test(l)) throw invalidArgValue('dst', dst, 'must be an address or address/prefixLen');
    if (len !== undefined && len !== Number(l)) {
      throw invalidArgValue('prefixLen', prefixLen, `contradicts the prefix length in dst "${dst}"`);
    }
    dstText = a;
    len = Number(l);
  }
  const d = dstText === null ? null : parseIp('dst', dstText);
  if (gw && d && gw.family !== d.family) {
    throw invalidArgValue('gateway', gateway, `is IPv${gw.family} but dst "${dst}" is IPv${d.family}`);
  }
  const family: Family | undefined = gw?.family ?? d?.family;
  if (family === undefined) {
    throw invalidArgValue('gateway', gateway, 'and dst cannot both be empty: a route needs an address');
  }
  if (d === null && len !== undefined && len !== 0) {
    throw invalidArgValue('prefixLen', prefixLen, 'needs a dst (a default route has prefix length 0)');
  }
  const dstLen = d === null ? 0 : parsePrefixLen('prefixLen', len ?? (family === 4 ? 32 : 128), family);
  const i = ifindex === undefined || ifindex === 0 ? 0 : resolveInterface(ifindex);
  if (!gw && i === 0) {
    throw invalidArgValue('ifindex', ifindex, 'is required for a route without a gateway (on-link)');
  }
  const text = `${d ? `${d.text}/${dstLen}` : 'default'}${gw ? ` via ${gw.text}` : ''}${i ? ` dev ${i}` : ''}`;
  return { family, dst: d, dstLen, gateway: gw, ifindex: i, text };
}
