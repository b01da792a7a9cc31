// The stack's netlink dumps (raw: indices, Buffers, kernel numbers) turned into Node's shapes:
// links, addresses and routes like `ip link|addr|route`, and os.networkInterfaces(). Pure
// functions of the dumps, so they are tested without a stack.
import type { NetworkInterfaceInfo } from 'node:os';
import { Family, formatIp, formatMac, prefixToNetmask } from '../internal/address';
import type { NativeAddress, NativeLink, NativeRoute } from '../internal/native';
import type { AddressInfo, LinkInfo, RouteInfo } from './types';

/** The flag bits the listings read (the addon's constants: Linux's IFF_* and IFA_F_*). */
export interface ListingFlags {
  IFF_UP: number; IFF_RUNNING: number; IFF_LOOPBACK: number;
  IFA_F_TENTATIVE: number; IFA_F_DADFAILED: number; IFA_F_NODAD: number;
}

// rtnetlink's numbers (linux/rtnetlink.h).
const SCOPES: Record<number, RouteInfo['scope']> = { 0: 'universe', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };
const RT_SCOPE_LINK = 253;
const ROUTE_PROTOCOLS: Record<number, string> = { 2: 'kernel', 3: 'boot', 4: 'static', 9: 'ra', 16: 'dhcp' };
const RT_TABLE_MAIN = 254;
const RTN_UNICAST = 1;

const isIp = (family: string): family is 'IPv4' | 'IPv6' => family === 'IPv4' || family === 'IPv6';

export function toLinks(links: readonly NativeLink[], f: ListingFlags): LinkInfo[] {
  return links.map((l) => ({
    index: l.index,
    name: l.name ?? '',
    mac: formatMac(l.mac),
    mtu: l.mtu ?? 0,
    up: (l.flags & f.IFF_UP) !== 0,
    running: (l.flags & f.IFF_RUNNING) !== 0,
    loopback: (l.flags & f.IFF_LOOPBACK) !== 0,
    flags: l.flags,
    ipv6: l.ipv6,
  }));
}

export function toAddresses(
  addresses: readonly NativeAddress[], links: readonly LinkInfo[], f: ListingFlags,
): AddressInfo[] {
  const names = new Map(links.map((l) => [l.index, l.name]));
  return addresses.filter((a) => a.address && isIp(a.family)).map((a) => {
    const address = formatIp(a.address!);
    return {
      family: a.family as 'IPv4' | 'IPv6',
      address,
      prefixLen: a.prefixLen,
      cidr: `${address}/${a.prefixLen}`,
      ifindex: a.index,
      interface: names.get(a.index) ?? null,
      scope: SCOPES[a.scope] ?? 'universe',
      tentative: (a.flags & f.IFA_F_TENTATIVE) !== 0,
      dadFailed: (a.flags & f.IFA_F_DADFAILED) !== 0,
      nodad: (a.flags & f.IFA_F_NODAD) !== 0,
      flags: a.flags,
    };
  });
}

/** The unicast routes of the main table, like `ip route` and `ip -6 route`. */
export function toRoutes(routes: readonly NativeRoute[], links: readonly LinkInfo[]): RouteInfo[] {
  const names = new Map(links.map((l) => [l.index, l.name]));
  return routes.filter((r) => r.table === RT_TABLE_MAIN && r.type === RTN_UNICAST && isIp(r.family)).map((r) => {
    const family = r.family as 'IPv4' | 'IPv6';
    const destination = r.dst ? formatIp(r.dst) : family === 'IPv4' ? '0.0.0.0' : '::';
    return {
      family,
      destination,
      prefixLen: r.dstLen,
      cidr: r.dstLen === 0 ? 'default' : `${destination}/${r.dstLen}`,
      gateway: r.gateway ? formatIp(r.gateway) : null,
      ifindex: r.index,
      interface: names.get(r.index) ?? null,
      metric: r.metric,
      scope: SCOPES[r.scope] ?? 'universe',
      protocol: ROUTE_PROTOCOLS[r.protocol] ?? String(r.protocol),
    };
  });
}

/**
 * The addresses in the shape of os.networkInterfaces(). Unlike it, interfaces that are down are
 * listed too (their configuration is what a caller wants to read back).
 */
export function toNetworkInterfaces(
  addresses: readonly NativeAddress[], links: readonly LinkInfo[],
): NodeJS.Dict<NetworkInterfaceInfo[]> {
  const byIndex = new Map(links.map((l) => [l.index, l]));
  const out: NodeJS.Dict<NetworkInterfaceInfo[]> = {};
  for (const a of addresses) {
    const link = byIndex.get(a.index);
    if (!link || !a.address || !isIp(a.family)) continue;
    const family: Family = a.family === 'IPv4' ? 4 : 6;
    const address = formatIp(a.address);
    // The fields in os.networkInterfaces()'s order (an app may print or compare them as text).
    const head = { address, netmask: prefixToNetmask(a.prefixLen, family) };
    const tail = { mac: link.mac, internal: link.loopback, cidr: `${address}/${a.prefixLen}` };
    const entry: NetworkInterfaceInfo = family === 4
      ? { ...head, family: 'IPv4', ...tail }
      : { ...head, family: 'IPv6', ...tail, scopeid: a.scope === RT_SCOPE_LINK ? a.index : 0 };
    (out[link.name] ??= []).push(entry);
  }
  return out;
}
