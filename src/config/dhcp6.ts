// A DHCPv6 client (RFC 8415) over a stack's own UDP socket: SOLICIT → ADVERTISE → REQUEST → REPLY
// for an address (IA_NA), or INFORMATION-REQUEST → REPLY for DNS servers and search domains only
// when no server hands out addresses (slirp's is of that kind); RENEW/REBIND before the lease
// ends and RELEASE when the configuration is taken back. Malformed replies, or replies for another
// client or transaction, are ignored.
import { formatIp, parseIp } from '../internal/address';
import { native } from '../internal/native';
import type { ConfigTarget } from './target';
import { Datagram, Exchange, preparedSocket, transact } from './exchange';
import { decodeNames, encodeName } from './names';
import { isDomainName } from '../internal/validators';

export const CLIENT_PORT = 546;
export const SERVER_PORT = 547;
export const ALL_SERVERS = 'ff02::1:2';
export const MSG = {
  SOLICIT: 1, ADVERTISE: 2, REQUEST: 3, RENEW: 5, REBIND: 6, REPLY: 7, RELEASE: 8, INFORMATION_REQUEST: 11,
} as const;
export const OPT = {
  CLIENTID: 1, SERVERID: 2, IA_NA: 3, IAADDR: 5, ORO: 6, ELAPSED: 8, STATUS: 13, DNS: 23, DOMAINS: 24, FQDN: 39,
} as const;
const TIMEOUTS = [1000, 2000];
const INFINITE = 0xffffffff;

export interface Dhcp6Lease {
  /** The address leased (a /128), or undefined for DNS settings only (stateless). */
  address?: string;
  /** The server's DUID (hex) and its address. */
  serverId: string;
  server: string;
  dns: string[];
  domains: string[];
  /** Seconds; Infinity when permanent. */
  renewalTime: number;
  rebindingTime: number;
  /** Seconds the address stays valid (its valid lifetime). */
  leaseTime: number;
  obtained: Date;
}

type Options = Map<number, Buffer[]>;

export function encodeOptions(options: [number, Buffer][]): Buffer {
  return Buffer.concat(options.map(([code, value]) => {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(code, 0);
    head.writeUInt16BE(value.length, 2);
    return Buffer.concat([head, value]);
  }));
}

export function decodeOptions(buf: Buffer): Options {
  const options: Options = new Map();
  for (let i = 0; i < buf.length;) {
    if (i + 4 > buf.length) throw new Error('truncated option header');
    const code = buf.readUInt16BE(i);
    const len = buf.readUInt16BE(i + 2);
    if (i + 4 + len > buf.length) throw new Error(`option ${code} runs past the end`);
    options.set(code, [...(options.get(code) ?? []), buf.subarray(i + 4, i + 4 + len)]);
    i += 4 + len;
  }
  return options;
}

export function encodeDhcp6(type: number, xid: number, options: [number, Buffer][]): Buffer {
  return Buffer.concat([Buffer.from([type, (xid >> 16) & 255, (xid >> 8) & 255, xid & 255]), encodeOptions(options)]);
}

export interface Dhcp6Packet {
  type: number;
  xid: number;
  options: Options;
}

export function decodeDhcp6(buf: Buffer): Dhcp6Packet {
  if (buf.length < 4) throw new Error('too short');
  return { type: buf[0], xid: buf.readUIntBE(1, 3), options: decodeOptions(buf.subarray(4)) };
}

function status(options: Options): number {
  const s = options.get(OPT.STATUS)?.[0];
  if (s && s.length < 2) throw new Error('status option too short');
  return s ? s.readUInt16BE(0) : 0;
}

/** The first usable address of the IA_NA with our IAID, with its lifetimes. */
export function leasedAddress(options: Options, iaid: number) {
  for (const ia of options.get(OPT.IA_NA) ?? []) {
    if (ia.length < 12) throw new Error('IA_NA too short');
    if (ia.readUInt32BE(0) !== iaid) continue;
    const inner = decodeOptions(ia.subarray(12));
    if (status(inner) !== 0) return null;
    for (const a of inner.get(OPT.IAADDR) ?? []) {
      if (a.length < 24) throw new Error('IAADDR too short');
      const address = formatIp(a.subarray(0, 16));
      const valid = a.readUInt32BE(20);
      if (status(decodeOptions(a.subarray(24))) !== 0 || valid === 0 || a[0] === 0xff || address.startsWith('fe80:') || address === '::') continue;
      return { address, t1: ia.readUInt32BE(4), t2: ia.readUInt32BE(8), valid, preferred: a.readUInt32BE(16) };
    }
  }
  return null;
}

function domainList(values: Buffer[] | undefined): string[] {
  return (values ?? []).flatMap((v) => decodeNames(v)).filter(isDomainName);
}

function dnsServers(values: Buffer[] | undefined): string[] {
  const out: string[] = [];
  for (const v of values ?? []) {
    if (v.length % 16 !== 0) throw new Error('DNS servers option of wrong size');
    for (let i = 0; i < v.length; i += 16) out.push(formatIp(v.subarray(i, i + 16)));
  }
  return out.filter((a) => a !== '::' && !a.startsWith('ff'));
}

export interface Dhcp6Identity {
  fd: number;
  ifindex: number;
  mac: Buffer;
  fqdn?: string;
}

const duid = (id: Dhcp6Identity) => Buffer.concat([Buffer.from([0, 3, 0, 1]), id.mac]);  // DUID-LL, Ethernet
const ip6 = (text: string) => parseIp('address', text).bytes;
// node:crypto at first use: loaded by a configuration that runs DHCPv6 only.
const newXid = () => (require('node:crypto') as typeof import('node:crypto')).randomBytes(3).readUIntBE(0, 3);

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

function requestOptions(id: Dhcp6Identity, start: number): [number, Buffer][] {
  const elapsed = Buffer.alloc(2);
  elapsed.writeUInt16BE(Math.min(0xffff, Math.floor((Date.now() - start) / 10)), 0);
  const options: [number, Buffer][] = [
    [OPT.CLIENTID, duid(id)],
    [OPT.ORO, Buffer.from([0, OPT.DNS, 0, OPT.DOMAINS])],
    [OPT.ELAPSED, elapsed],
  ];
  // Client FQDN (RFC 4704): flag S, the server updates the AAAA record.
  if (id.fqdn) options.push([OPT.FQDN, Buffer.concat([Buffer.from([0x01]), encodeName(id.fqdn)])]);
  return options;
}

const iaNa = (id: Dhcp6Identity, address?: Buffer) => Buffer.concat([u32(id.ifindex), u32(0), u32(0),
  address ? encodeOptions([[OPT.IAADDR, Buffer.concat([address, u32(0), u32(0)])]]) : Buffer.alloc(0)]);

/**
 * A reply of one of `types` for this client and transaction, from `serverId` if given; else null.
 * The source port is not checked: slirp answers from an ephemeral port (and leaves the server
 * identifier out of its replies to INFORMATION-REQUEST, which `anonymous` allows).
 */
export function acceptReply(
  d: Datagram, id: Dhcp6Identity, xid: number, types: number[], serverId?: Buffer, anonymous = false,
): Dhcp6Packet | null {
  try {
    const p = decodeDhcp6(d.data);
    const client = p.options.get(OPT.CLIENTID)?.[0];
    const server = p.options.get(OPT.SERVERID)?.[0];
    if (p.xid !== xid || !types.includes(p.type) || !client?.equals(duid(id)) || (!server && !anonymous)) return null;
    if (serverId && !server?.equals(serverId)) return null;
    leasedAddress(p.options, id.ifindex);  // throws when malformed
    dnsServers(p.options.get(OPT.DNS));
    domainList(p.options.get(OPT.DOMAINS));
    return p;
  } catch {
    return null;
  }
}

function leaseOf(p: Dhcp6Packet, d: Datagram, id: Dhcp6Identity): Dhcp6Lease {
  const a = leasedAddress(p.options, id.ifindex);
  const seconds = (v: number) => (v === INFINITE ? Infinity : v);
  const valid = a ? a.valid : INFINITE;
  return {
    address: a?.address,
    serverId: p.options.get(OPT.SERVERID)?.[0].toString('hex') ?? '',
    server: d.address,
    dns: dnsServers(p.options.get(OPT.DNS)),
    domains: domainList(p.options.get(OPT.DOMAINS)),
    // T1/T2 of 0 leave the times to the client: 0.5 and 0.8 of the preferred lifetime (RFC 8415 21.4).
    renewalTime: seconds(a ? (a.t1 || Math.floor(a.preferred * 0.5)) : INFINITE),
    rebindingTime: seconds(a ? (a.t2 || Math.floor(a.preferred * 0.8)) : INFINITE),
    leaseTime: seconds(valid),
    obtained: new Date(),
  };
}

const toServers = (id: Dhcp6Identity) => ({ address: ALL_SERVERS, port: SERVER_PORT, scopeId: id.ifindex });

/**
 * An address through SOLICIT/REQUEST, else DNS settings through INFORMATION-REQUEST; null if nobody
 * answers. `stateful` false (a router advertisement without the M flag: no addresses by DHCPv6)
 * goes straight to INFORMATION-REQUEST.
 */
export function* acquire(id: Dhcp6Identity, stateful = true): Exchange<Dhcp6Lease | null> {
  const start = Date.now();
  let xid = newXid();
  let advertised: Datagram | null = null;
  const advertise = !stateful ? null : yield* transact(
    () => ({
      ...toServers(id),
      send: encodeDhcp6(MSG.SOLICIT, xid, [...requestOptions(id, start), [OPT.IA_NA, iaNa(id)]]),
    }),
    (d) => {
      const p = acceptReply(d, id, xid, [MSG.ADVERTISE]);
      if (p) advertised = d;
      return p;
    }, TIMEOUTS);
  const offered = advertise && leasedAddress(advertise.options, id.ifindex);
  if (advertise && offered) {
    const serverId = advertise.options.get(OPT.SERVERID)![0];
    xid = newXid();
    let from: Datagram = advertised!;
    const reply = yield* transact(
      () => ({
        ...toServers(id),
        send: encodeDhcp6(MSG.REQUEST, xid, [...requestOptions(id, start), [OPT.SERVERID, serverId],
          [OPT.IA_NA, iaNa(id, ip6(offered.address))]]),
      }),
      (d) => {
        const p = acceptReply(d, id, xid, [MSG.REPLY], serverId);
        if (p) from = d;
        return p && leasedAddress(p.options, id.ifindex) ? p : null;
      }, TIMEOUTS);
    if (reply) return leaseOf(reply, from, id);
  }
  xid = newXid();
  let from: Datagram | null = null;
  const info = yield* transact(
    () => ({ ...toServers(id), send: encodeDhcp6(MSG.INFORMATION_REQUEST, xid, requestOptions(id, start)) }),
    (d) => {
      const p = acceptReply(d, id, xid, [MSG.REPLY], undefined, true);
      if (p) from = d;
      return p;
    }, TIMEOUTS);
  if (!info) return null;
  const lease = leaseOf(info, from!, id);
  return { ...lease, address: undefined, renewalTime: Infinity, rebindingTime: Infinity, leaseTime: Infinity };
}

/** RENEW (to the lease's server) or REBIND (to any server) for the address held. */
export function* renew(id: Dhcp6Identity, lease: Dhcp6Lease, rebinding: boolean): Exchange<Dhcp6Lease | null> {
  const start = Date.now();
  const xid = newXid();
  const serverId = Buffer.from(lease.serverId, 'hex');
  const address = ip6(lease.address!);
  let from: Datagram | null = null;
  const reply = yield* transact(
    () => ({
      ...toServers(id),
      send: encodeDhcp6(rebinding ? MSG.REBIND : MSG.RENEW, xid,
        [
          ...requestOptions(id, start),
          ...(rebinding ? [] : [[OPT.SERVERID, serverId] as [number, Buffer]]),
          [OPT.IA_NA, iaNa(id, address)],
        ]),
    }),
    (d) => {
      const p = acceptReply(d, id, xid, [MSG.REPLY], rebinding ? undefined : serverId);
      if (p) from = d;
      return p && leasedAddress(p.options, id.ifindex) ? p : null;
    }, TIMEOUTS);
  return reply && leaseOf(reply, from!, id);
}

/** RELEASE of the address held (no answer awaited). */
export function release(id: Dhcp6Identity, lease: Dhcp6Lease): void {
  if (!lease.address) return;
  const address = ip6(lease.address);
  const packet = encodeDhcp6(MSG.RELEASE, newXid(), [...requestOptions(id, Date.now()),
    [OPT.SERVERID, Buffer.from(lease.serverId, 'hex')], [OPT.IA_NA, iaNa(id, address)]]);
  native.sendTo(id.fd, packet, 6, ip6(ALL_SERVERS), SERVER_PORT, id.ifindex);
}

/** The client's socket: UDP port 546 on `iface` only, multicasting there. */
export function openClientSocket(stack: ConfigTarget, iface: string, ifindex: number): number {
  return preparedSocket(() => stack.socketFd(6, 'udp'), (fd) => {
    native.setSocketOption(fd, 'bindtodevice', iface);
    native.bindSocket(fd, 6, Buffer.alloc(16), CLIENT_PORT, true, true);
    native.setSocketOption(fd, 'multicast_if6', ifindex);
  });
}
