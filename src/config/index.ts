// Configuration strings in iothconf's language, applied to a stack: static items, DHCPv4, DHCPv6,
// router discovery, their undo forms, and the resolv.conf view of the result (ioth_resolvconf).
// One plan runs two ways: config() blocks while the protocols wait for answers (as ioth_config
// does: nothing else runs before the network is ready), configAsync() waits with timers.
import { closeSync } from 'node:fs';
import { formatIp, formatMac, parseIp, parseMac } from '../internal/address';
import { codedError, type IothError } from '../internal/errors';
import type { ConfigTarget } from './target';
import type * as Dhcp4 from './dhcp4';
import type * as Dhcp6 from './dhcp6';
import { native } from '../internal/native';
import type * as Dad from './dad';
import type { NewAddress, Pause } from './dad';
import type * as ExchangeDriver from './exchange';
import type { Exchange } from './exchange';
import { sleepSync } from '../internal/time';
import type * as Fqdn from './fqdn';
import type * as Lease from './lease';
import { ConfigPlan, Method, parseConfig, tokenize } from './parse';
import type * as Rd from './rd';
import { Contribution, InterfaceState, LeaseClient, contribute, emptyContribution, interfaceState, merged, stateOf } from './state';
import type { Dhcp4Identity, Dhcp4Lease } from './dhcp4';
import type { Dhcp6Identity, Dhcp6Lease } from './dhcp6';
import type { RouterAdvertisement } from './rd';

// The protocols load at their first use: a static configuration (the hook's usual one) runs none.
const dhcp4 = (): typeof Dhcp4 => require('./dhcp4');
const dhcp6 = (): typeof Dhcp6 => require('./dhcp6');
const rd = (): typeof Rd => require('./rd');
const leases = (): typeof Lease => require('./lease');
// Only for what a configuration asks: IPv6 addresses to wait for, a protocol to run, an fqdn.
const dad = (): typeof Dad => require('./dad');
const exchange = (): typeof ExchangeDriver => require('./exchange');
const fqdnOf = (): typeof Fqdn => require('./fqdn');

export { tokenize, parseConfig } from './parse';
export type { ConfigPlan, Method } from './parse';
export type { Dhcp4Lease } from './dhcp4';
export type { Dhcp6Lease } from './dhcp6';
export type { RouterAdvertisement } from './rd';

/** What an interface holds after a configuration call, all methods together. */
export interface ConfigResult {
  iface: string;
  ifindex: number;
  up: boolean;
  mac: string;
  mtu: number;
  fqdn?: string;
  /** address/prefixLen, gateway, DNS server and search domain lists of every method, in order. */
  addresses: string[];
  gateways: string[];
  dns: string[];
  domains: string[];
  /** The methods whose configuration the interface now holds. */
  methods: Method[];
  dhcp4?: Dhcp4Lease;
  dhcp6?: Dhcp6Lease;
  rd?: RouterAdvertisement;
}

/** A protocol exchange the plan needs run on socket `fd`, or a pause (waiting for DAD). */
type Task<T = unknown> = { fd: number; exchange: Exchange<T> } | Pause;

const DEFAULT_IFACE = 'vde0';

function withItem(err: unknown, item: string): IothError {
  const e = err as IothError;
  if (!e.message.includes('(configuration item')) e.message = `${e.message} (configuration item '${item}')`;
  return e;
}

/** What the two DHCP clients have in common, for holding and ending their leases. */
interface DhcpProtocol<I extends { fd: number }, L extends Dhcp4Lease | Dhcp6Lease> {
  method: 'dhcp4' | 'dhcp6';
  acquire(id: I): Exchange<L | 'nak' | null>;
  renew(id: I, lease: L, rebinding: boolean): Exchange<L | 'nak' | null>;
  release(id: I, lease: L): void;
  contribution(lease: L): Contribution;
}

const DHCP4: DhcpProtocol<Dhcp4Identity, Dhcp4Lease> = {
  method: 'dhcp4', acquire: (id) => dhcp4().acquire(id), renew: (id, l, r) => dhcp4().renew(id, l, r), release: (id, l) => dhcp4().release(id, l),
  contribution: (l) => ({
    addresses: [{ address: l.address, prefixLen: l.prefixLen }], gateways: l.routers.slice(0, 1),
    dns: l.dns, domains: l.domains,
  }),
};

const DHCP6: DhcpProtocol<Dhcp6Identity, Dhcp6Lease> = {
  method: 'dhcp6', acquire: (id) => dhcp6().acquire(id), renew: (id, l, r) => dhcp6().renew(id, l, r), release: (id, l) => dhcp6().release(id, l),
  contribution: (l) => ({
    addresses: l.address ? [{ address: l.address, prefixLen: 128 }] : [], gateways: [],
    dns: l.dns, domains: l.domains,
  }),
};

/** Puts `lease` on the interface and keeps it renewed while it can be. */
function hold<I extends { fd: number }, L extends Dhcp4Lease | Dhcp6Lease>(stack: ConfigTarget, s: InterfaceState,
  p: DhcpProtocol<I, L>, id: I, lease: L): LeaseClient<I, L> {
  const client: LeaseClient<I, L> = { id, lease };
  contribute(stack, s, p.method, p.contribution(lease));
  if (Number.isFinite(lease.renewalTime)) {
    client.keeper = new (leases().LeaseKeeper)({
      fd: id.fd,
      acquire: () => p.acquire(id),
      renew: (l, rebinding) => p.renew(id, l, rebinding),
      changed: (l) => { client.lease = l ?? undefined; contribute(stack, s, p.method, l && p.contribution(l)); },
    }, lease);
  }
  return client;
}

/** Ends a DHCP client: RELEASE for the lease it holds, no more renewals, its socket closed. */
function endClient<I extends { fd: number }, L extends Dhcp4Lease | Dhcp6Lease>(client: LeaseClient<I, L> | undefined,
  p: DhcpProtocol<I, L>): void {
  if (!client) return;
  client.keeper?.stop();
  if (client.lease) {
    try {
      p.release(client.id, client.lease);
      // The RELEASE may wait for the server's link address (ARP, neighbour discovery): let it leave
      // the stack before the socket goes, and the stack with it when closing (at most 500 ms).
      const until = Date.now() + 500;
      while (native.unsentBytes(client.id.fd) > 0 && Date.now() < until) sleepSync(5);
    } catch { /* the stack may already be unable to send: the lease then just runs out */ }
  }
  closeSync(client.id.fd);
}

function cleanDhcp4(s: InterfaceState): void {
  endClient(s.dhcp4, DHCP4);
  s.dhcp4 = undefined;
}

function cleanDhcp6(s: InterfaceState): void {
  endClient(s.dhcp6, DHCP6);
  s.dhcp6 = undefined;
}

function rdContribution(ra: RouterAdvertisement, slaac: boolean, mac: Buffer, fqdn?: string): Contribution {
  const addresses = slaac
    ? ra.prefixes.filter((p) => p.prefixLen === 64 && p.validLifetime > 0 && (p.autonomous || fqdn)).map((p) => {
      const prefix = parseIp('prefix', p.prefix).bytes;
      const { hashAddress6, eui64Address6 } = fqdnOf();
      return { address: formatIp(fqdn ? hashAddress6(prefix, fqdn) : eui64Address6(prefix, mac)), prefixLen: 64 };
    })
    : [];
  return { addresses, gateways: ra.lifetime > 0 ? [ra.router] : [], dns: ra.dns, domains: ra.domains };
}

function timeout(method: string, iface: string, seconds: number): IothError {
  const what = { dhcp4: 'no DHCPv4 server answered', dhcp6: 'no DHCPv6 server answered', rd: 'no router advertisement came' }[method];
  const error = codedError('ETIMEDOUT', `${what} on ${iface} within ${seconds} s`);
  return error;
}

/**
 * The whole configuration as a generator of protocol exchanges (run by runSync or runAsync).
 * Order as ioth_config: undo forms, link, router discovery, DHCPv6, DHCPv4, static items.
 */
function* applyPlan(stack: ConfigTarget, plan: ConfigPlan): Generator<Task, ConfigResult, unknown> {
  let ifindex = plan.ifindex ?? 0;
  let iface = plan.iface ?? DEFAULT_IFACE;
  try {
    if (ifindex) iface = stack.ifIndexToName(ifindex); else ifindex = stack.ifNameToIndex(iface);
  } catch (err) {
    throw withItem(err, plan.ifindex ? `ifindex=${plan.ifindex}` : `iface=${iface}`);
  }
  const s = interfaceState(stack, ifindex, iface);
  const before = merged(s).addresses.map((a) => `${a.address}/${a.prefixLen}`);
  if (plan.fqdn) s.fqdn = plan.fqdn;
  const fqdn = plan.fqdn ?? s.fqdn;
  const wants = (m: Method) => plan.required.has(m) || plan.optional.has(m);

  if (plan.clean.has('static')) contribute(stack, s, 'static', null);
  if (plan.clean.has('rd')) { contribute(stack, s, 'rd', null); s.rd = undefined; }
  if (plan.clean.has('dhcp6')) { cleanDhcp6(s); contribute(stack, s, 'dhcp6', null); }
  if (plan.clean.has('dhcp4')) { cleanDhcp4(s); contribute(stack, s, 'dhcp4', null); }
  if (plan.clean.has('eth')) stack.linkSetUpDown(ifindex, false);

  try {
    if (plan.mac) stack.linkSetAddr(ifindex, plan.mac);
    else if (plan.fqdn && plan.required.has('eth')) stack.linkSetAddr(ifindex, fqdnOf().hashMac(plan.fqdn));
  } catch (err) {
    throw withItem(err, plan.mac ? `mac=${plan.mac}` : `fqdn=${plan.fqdn}`);
  }
  try {
    if (plan.mtu) stack.linkSetMtu(ifindex, plan.mtu);
  } catch (err) {
    throw withItem(err, `mtu=${plan.mtu}`);
  }
  if (plan.required.has('eth')) stack.linkSetUpDown(ifindex, true);
  const mac = parseMac('mac', stack.linkGetAddr(ifindex));

  const failures: IothError[] = [];
  const linkDown = () => !stack.links().find((l) => l.index === ifindex)?.up;
  const fail = (m: Method, err: IothError) => {
    if (linkDown() && !err.message.includes('link is down')) err.message += ` (the link is down: add 'eth')`;
    failures.push(withItem(err, m === 'dhcp4' ? 'dhcp' : m));
  };

  // Each method's failure (no answer, a socket error, a refused lease) is recorded, not thrown at
  // once: the other methods still run, and the end decides what is an error.
  if (wants('rd')) {
    let fd = -1;
    try {
      fd = rd().openIcmpSocket(stack, iface);
      const ra = (yield { fd, exchange: rd().discover(ifindex, mac) }) as RouterAdvertisement | null;
      if (ra) {
        s.rd = ra;
        contribute(stack, s, 'rd', rdContribution(ra, plan.slaac, mac, fqdn));
      } else fail('rd', timeout('rd', iface, 3));
    } catch (err) {
      fail('rd', err as IothError);
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  if (wants('dhcp6')) {
    cleanDhcp6(s);
    let fd = -1;
    try {
      fd = dhcp6().openClientSocket(stack, iface, ifindex);
      const id = { fd, ifindex, mac, fqdn };
      const lease = (yield { fd, exchange: dhcp6().acquire(id, s.rd?.managed ?? true) }) as Dhcp6Lease | null;
      if (lease) {
        fd = -1;  // the client's now
        s.dhcp6 = hold(stack, s, DHCP6, id, lease);
      } else fail('dhcp6', timeout('dhcp6', iface, 6));
    } catch (err) {
      fail('dhcp6', err as IothError);
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  if (wants('dhcp4')) {
    cleanDhcp4(s);
    let fd = -1;
    try {
      fd = dhcp4().openClientSocket(stack, iface);
      const id = { fd, mac, fqdn };
      let lease = (yield { fd, exchange: dhcp4().acquire(id) }) as Dhcp4Lease | 'nak' | null;
      // A refusal (the offered address went to someone else in between) deserves one more round.
      if (lease === 'nak') lease = (yield { fd, exchange: dhcp4().acquire(id) }) as typeof lease;
      if (lease && lease !== 'nak') {
        fd = -1;  // the client's now
        s.dhcp4 = hold(stack, s, DHCP4, id, lease);
      } else {
        fail('dhcp4', lease === 'nak' ? codedError('ERR_IOTH_DHCP_REFUSED', `the DHCP server refused the address it offered on ${iface}, twice`)
          : timeout('dhcp4', iface, 6));
      }
    } catch (err) {
      fail('dhcp4', err as IothError);
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  if (plan.required.has('static')) {
    const canonical = (a: string) => parseIp('address', a).text;
    const prev = s.sources.get('static') ?? emptyContribution();
    const del = plan.del;
    const next: Contribution = {
      addresses: [
        ...prev.addresses.filter((a) =>
          !del.ip.some((d) => canonical(d.address) === a.address && d.prefixLen === a.prefixLen)),
        ...plan.add.ip.map((a) => ({
          address: canonical(a.address), prefixLen: a.prefixLen, ...(plan.nodad ? { nodad: true } : {}),
        })),
      ],
      gateways: [
        ...prev.gateways.filter((g) => !del.gw.some((d) => canonical(d.address) === g)),
        ...plan.add.gw.map((g) => canonical(g.address)),
      ],
      dns: [...prev.dns.filter((d) => !del.dns.map(canonical).includes(d)), ...plan.add.dns.map(canonical)],
      domains: [...prev.domains.filter((d) => !del.domain.includes(d)), ...plan.add.domain],
    };
    try {
      contribute(stack, s, 'static', next);
    } catch (err) {
      const e = err as IothError;
      const item = [...plan.add.ip.map((a) => a.token), ...plan.add.gw.map((g) => g.token)]
        .find((t) => e.message.includes(t.split('=')[1].split('/')[0]));
      throw withItem(err, item ?? 'static');
    }
  }

  // The IPv6 addresses this call added must be usable before it returns (duplicate address detection).
  const awaited: NewAddress[] = [];
  for (const a of merged(s).addresses) {
    if (parseIp('address', a.address).family !== 6 || before.includes(`${a.address}/${a.prefixLen}`)) continue;
    const method = [...s.sources].find(([, c]) => c.addresses.some((b) => b.address === a.address))?.[0];
    const token = plan.add.ip.find((i) => parseIp('address', i.address).text === a.address)?.token;
    awaited.push({ address: a.address, prefixLen: a.prefixLen, item: method === 'static' && token ? token : method === 'rd' ? 'slaac' : method ?? 'static' });
  }
  if (awaited.length) yield* dad().untilUsable(stack, ifindex, iface, awaited);

  const result = describe(stack, s);
  if (plan.debug) process.stderr.write(debugText(stack, result));
  const optional = [...plan.optional].filter((m) => !plan.required.has(m));
  const gotOptional = optional.some((m) => result.methods.includes(m));
  const required = failures.filter((e) => [...plan.required].some((m) => e.message.endsWith(`'${m === 'dhcp4' ? 'dhcp' : m}')`)));
  const error = required[0] ?? (optional.length > 0 && !gotOptional ? failures[0] : undefined);
  if (error) {
    (error as IothError & { result?: ConfigResult }).result = result;
    throw error;
  }
  return result;
}

/** The interface's configuration as ConfigResult. */
function describe(stack: ConfigTarget, s: InterfaceState): ConfigResult {
  const link = stack.links().find((l) => l.index === s.ifindex);
  const all = merged(s);
  return {
    iface: s.iface,
    ifindex: s.ifindex,
    up: link?.up ?? false,
    mac: link?.mac ?? formatMac(null),
    mtu: link?.mtu ?? 0,
    ...(s.fqdn ? { fqdn: s.fqdn } : {}),
    addresses: all.addresses.map((a) => `${a.address}/${a.prefixLen}`),
    gateways: all.gateways,
    dns: all.dns,
    domains: all.domains,
    methods: [...s.sources.keys()],
    ...(s.dhcp4?.lease ? { dhcp4: s.dhcp4.lease } : {}),
    ...(s.dhcp6?.lease ? { dhcp6: s.dhcp6.lease } : {}),
    ...(s.rd ? { rd: s.rd } : {}),
  };
}

function debugText(stack: ConfigTarget, r: ConfigResult): string {
  const lines = [`iothts config: ${r.iface} (index ${r.ifindex}) ${r.up ? 'up' : 'down'} mac ${r.mac} mtu ${r.mtu}${r.fqdn ? ` fqdn ${r.fqdn}` : ''}`];
  const s = stateOf(stack).ifaces.get(r.ifindex)!;
  for (const [m, c] of s.sources) {
    lines.push(`  ${m}: addresses ${c.addresses.map((a) => `${a.address}/${a.prefixLen}`).join(' ') || '-'}; gateways ${c.gateways.join(' ') || '-'}; dns ${c.dns.join(' ') || '-'}; domains ${c.domains.join(' ') || '-'}`);
  }
  if (r.dhcp4) lines.push(`  dhcp4 lease from ${r.dhcp4.server}: ${r.dhcp4.leaseTime} s, renewal at ${r.dhcp4.renewalTime} s`);
  if (r.dhcp6) lines.push(`  dhcp6 from ${r.dhcp6.server}: ${r.dhcp6.address ?? 'stateless'}`);
  if (r.rd) lines.push(`  router ${r.rd.router}: lifetime ${r.rd.lifetime} s, prefixes ${r.rd.prefixes.map((p) => `${p.prefix}/${p.prefixLen}`).join(' ') || '-'}`);
  return `${lines.join('\n')}\n`;
}

/** Applies a configuration string, blocking while DHCP or router discovery wait for answers. */
export function applyConfig(stack: ConfigTarget, config: string): ConfigResult {
  const run = applyPlan(stack, parseConfig(config, false));
  // A protocol's error goes back into the plan, which records it against its method.
  for (let next = run.next(); ; ) {
    if (next.done) return next.value;
    const task = next.value;
    if ('sleep' in task) {
      sleepSync(task.sleep);
      next = run.next();
      continue;
    }
    let answer: unknown;
    try {
      answer = exchange().runSync(task.fd, task.exchange);
    } catch (err) {
      next = run.throw(err);
      continue;
    }
    next = run.next(answer);
  }
}

/** The same, without blocking the thread. */
export async function applyConfigAsync(stack: ConfigTarget, config: string): Promise<ConfigResult> {
  const run = applyPlan(stack, parseConfig(config, false));
  for (let next = run.next(); ; ) {
    if (next.done) return next.value;
    const task = next.value;
    if ('sleep' in task) {
      await new Promise((resolve) => setTimeout(resolve, task.sleep));
      next = run.next();
      continue;
    }
    let answer: unknown;
    try {
      answer = await exchange().runAsync(task.fd, task.exchange);
    } catch (err) {
      next = run.throw(err);
      continue;
    }
    next = run.next(answer);
  }
}

/** Splits a Stack.fromConfig string: the stack's plugin and VNL, and the configuration proper. */
export function splitStackConfig(config: string): { plugin?: string; vnl?: string; rest: string } {
  const plan = parseConfig(config, true);
  const rest = tokenize(config).filter((t) => !/^(stack|vnl)=/.test(t)).map((t) => `'${t.replace(/'/g, "'\\''")}'`);
  return { plugin: plan.stack, vnl: plan.vnl, rest: rest.join(',') };
}

/** resolv.conf(5) text of the DNS settings configuration gave the stack (one interface, or all). */
export function resolvConf(stack: ConfigTarget, iface?: string | number): string {
  const state = stateOf(stack);
  let dns: string[];
  let domains: string[];
  if (iface === undefined) {
    dns = state.servers;
    domains = state.search;
  } else {
    const index = stack.resolveInterface(iface);
    const s = state.ifaces.get(index);
    const m = s ? merged(s) : emptyContribution();
    dns = m.dns;
    domains = m.domains;
  }
  return [
    `# generated by iothts for the ${stack.plugin} stack`,
    ...(domains.length ? [`search ${domains.join(' ')}`] : []),
    ...dns.map((d) => `nameserver ${d}`),
  ].join('\n') + '\n';
}

/** Ends every lease of the stack (RELEASE sent) and their sockets: the stack is closing. */
export function releaseAll(stack: ConfigTarget): void {
  for (const s of stateOf(stack).ifaces.values()) {
    cleanDhcp6(s);
    cleanDhcp4(s);
  }
}
