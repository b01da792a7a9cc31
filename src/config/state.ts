// What each configuration method (static items, DHCPv4, DHCPv6, router discovery) put on each
// interface of a stack. Methods are tracked apart, as iothconf does, so that one can be taken back
// (-dhcp, -rd, -ip=...) or replaced (a renewed lease) without touching what the others set; an
// address or route two methods share stays until neither wants it.
import type { ConfigTarget } from './target';
import type { Dhcp4Identity, Dhcp4Lease } from './dhcp4';
import type { Dhcp6Identity, Dhcp6Lease } from './dhcp6';
import type { LeaseKeeper } from './lease';
import type { Method } from './parse';
import type { RouterAdvertisement } from './rd';

export interface Contribution {
  /** nodad: added without duplicate address detection (the configuration's nodad). */
  addresses: { address: string; prefixLen: number; nodad?: boolean }[];
  gateways: string[];
  dns: string[];
  domains: string[];
}

/** A DHCP client of an interface: its identity (socket, MAC, name), its lease, its renewals. */
export interface LeaseClient<I, L extends Dhcp4Lease | Dhcp6Lease> {
  id: I;
  lease?: L;
  keeper?: LeaseKeeper<L>;
}

export interface InterfaceState {
  ifindex: number;
  iface: string;
  fqdn?: string;
  sources: Map<Method, Contribution>;
  dhcp4?: LeaseClient<Dhcp4Identity, Dhcp4Lease>;
  dhcp6?: LeaseClient<Dhcp6Identity, Dhcp6Lease>;
  rd?: RouterAdvertisement;
}

export interface StackConfigState {
  ifaces: Map<number, InterfaceState>;
  /** The resolver settings configuration put there (the rest are the program's own). */
  servers: string[];
  search: string[];
}

const ORDER: Method[] = ['static', 'dhcp4', 'dhcp6', 'rd'];
const states = new WeakMap<ConfigTarget, StackConfigState>();

export function stateOf(stack: ConfigTarget): StackConfigState {
  let state = states.get(stack);
  if (!state) states.set(stack, state = { ifaces: new Map(), servers: [], search: [] });
  return state;
}

export function interfaceState(stack: ConfigTarget, ifindex: number, iface: string): InterfaceState {
  const ifaces = stateOf(stack).ifaces;
  let s = ifaces.get(ifindex);
  if (!s) ifaces.set(ifindex, s = { ifindex, iface, sources: new Map() });
  return s;
}

export const emptyContribution = (): Contribution => ({ addresses: [], gateways: [], dns: [], domains: [] });

const unique = <T>(xs: T[]) => xs.filter((x, i) => xs.indexOf(x) === i);
const cidr = (a: { address: string; prefixLen: number }) => `${a.address}/${a.prefixLen}`;

/** Everything the interface's methods want, in ORDER, without duplicates. */
export function merged(s: InterfaceState, except?: Method): Contribution {
  const all = emptyContribution();
  for (const m of ORDER) {
    const c = m === except ? undefined : s.sources.get(m);
    if (!c) continue;
    all.addresses.push(...c.addresses.filter((a) => !all.addresses.some((b) => cidr(a) === cidr(b))));
    all.gateways.push(...c.gateways);
    all.dns.push(...c.dns);
    all.domains.push(...c.domains);
  }
  return {
    addresses: all.addresses, gateways: unique(all.gateways), dns: unique(all.dns), domains: unique(all.domains),
  };
}

function tolerate(codes: string[], fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!codes.includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
}

/**
 * Replaces what `method` contributes to the interface: adds its new addresses and routes, removes
 * the ones it no longer wants (unless another method still does), then updates the resolver.
 */
export function contribute(stack: ConfigTarget, s: InterfaceState, method: Method, next: Contribution | null): void {
  const before = s.sources.get(method) ?? emptyContribution();
  const after = next ?? emptyContribution();
  const others = merged(s, method);
  const keep = (a: { address: string; prefixLen: number }) => others.addresses.some((b) => cidr(a) === cidr(b));
  for (const gw of before.gateways) {
    if (!after.gateways.includes(gw) && !others.gateways.includes(gw)) tolerate(['ESRCH', 'ENOENT'], () => stack.ipRouteDel(gw, null, undefined, s.ifindex));
  }
  for (const a of before.addresses) {
    if (!after.addresses.some((b) => cidr(a) === cidr(b)) && !keep(a)) tolerate(['EADDRNOTAVAIL', 'ENOENT'], () => stack.ipAddrDel(a.address, a.prefixLen, s.ifindex));
  }
  // Addresses first: a gateway is reachable only through an address of its network.
  for (const a of after.addresses) tolerate(['EEXIST'], () => stack.ipAddrAdd(a.address, a.prefixLen, s.ifindex, { nodad: a.nodad === true }));
  for (const gw of after.gateways) tolerate(['EEXIST'], () => stack.ipRouteAdd(gw, null, undefined, s.ifindex));
  if (next) s.sources.set(method, next); else s.sources.delete(method);
  updateResolver(stack);
}

/** The resolver's servers and search list: the program's own, then every interface's configured ones. */
export function updateResolver(stack: ConfigTarget): void {
  const state = stateOf(stack);
  const configured = emptyContribution();
  for (const s of state.ifaces.values()) {
    const m = merged(s);
    configured.dns.push(...m.dns);
    configured.domains.push(...m.domains);
  }
  const servers = unique(configured.dns);
  const search = unique(configured.domains);
  if (servers.join() !== state.servers.join()) {
    const own = stack.resolverSettings.getServers().filter((x) => !state.servers.includes(x));
    stack.resolverSettings.setServers(unique([...own, ...servers]));
    state.servers = servers;
  }
  if (search.join() !== state.search.join()) {
    const own = stack.resolverSettings.getSearch().filter((x) => !state.search.includes(x));
    stack.resolverSettings.setSearch(unique([...own, ...search]));
    state.search = search;
  }
}
