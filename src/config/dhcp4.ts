// A DHCPv4 client (RFC 2131/2132) over a stack's own UDP socket: DISCOVER, OFFER, REQUEST, ACK
// with the broadcast flag, then renewal at T1 (unicast to the server), rebinding at T2
// (broadcast), expiry, and RELEASE when the configuration is taken back or the stack closes.
// Replies are checked field by field; anything malformed, for another client or transaction, or
// from another server than the one chosen is ignored as if it never arrived.
import { formatIp, parseIp } from '../internal/address';
import { native } from '../internal/native';
import type { ConfigTarget } from './target';
import { Datagram, Exchange, preparedSocket, transact } from './exchange';
import { decodeNames, encodeName } from './names';
import { isDomainName } from '../internal/validators';
import { isIPv4 } from '../internal/ip-syntax';

export const CLIENT_PORT = 68;
export const SERVER_PORT = 67;
const MAGIC = 0x63825363;
/** Message types (option 53). */
export const DHCP = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8 } as const;
/** Option codes this client sends or reads. */
export const OPT = {
  SUBNET_MASK: 1, ROUTER: 3, DNS: 6, HOSTNAME: 12, DOMAIN: 15, MTU: 26, BROADCAST: 28, REQUESTED_IP: 50,
  LEASE_TIME: 51, OVERLOAD: 52, MESSAGE_TYPE: 53, SERVER_ID: 54, PARAMS: 55, MAX_SIZE: 57, T1: 58, T2: 59,
  CLIENT_ID: 61, FQDN: 81, SEARCH: 119, END: 255, PAD: 0,
} as const;
/** Retransmission waits (ms): about 6 s in all before a step gives up. */
export const TIMEOUTS = [1000, 2000, 3000];
const INFINITE = 0xffffffff;

export interface Dhcp4Packet {
  op: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  chaddr: Buffer;
  type: number;
  /** Options by code; repeated options are concatenated (RFC 3396). */
  options: Map<number, Buffer>;
}

export interface Dhcp4Lease {
  address: string;
  prefixLen: number;
  /** The server that granted the lease (option 54). */
  server: string;
  routers: string[];
  dns: string[];
  domains: string[];
  mtu?: number;
  /** Lease, renewal (T1) and rebinding (T2) times in seconds; Infinity for a permanent lease. */
  leaseTime: number;
  renewalTime: number;
  rebindingTime: number;
  obtained: Date;
}

function ip4(text: string): Buffer {
  return parseIp('address', text).bytes;
}

export interface Dhcp4Message {
  type: number;
  xid: number;
  mac: Buffer;
  secs?: number;
  ciaddr?: string;
  broadcast?: boolean;
  options?: [number, Buffer][];
}

export function encodeDhcp4(m: Dhcp4Message): Buffer {
  const opts: Buffer[] = [Buffer.from([OPT.MESSAGE_TYPE, 1, m.type])];
  for (const [code, value] of m.options ?? []) {
    for (let i = 0; i < value.length || i === 0; i += 255) {  // long options split (RFC 3396)
      const part = value.subarray(i, i + 255);
      opts.push(Buffer.from([code, part.length]), part);
    }
  }
  opts.push(Buffer.from([OPT.END]));
  const head = Buffer.alloc(240);
  head[0] = 1;  // BOOTREQUEST
  head[1] = 1;  // Ethernet
  head[2] = 6;
  head.writeUInt32BE(m.xid >>> 0, 4);
  head.writeUInt16BE(Math.min(0xffff, m.secs ?? 0), 8);
  head.writeUInt16BE(m.broadcast ? 0x8000 : 0, 10);
  if (m.ciaddr) ip4(m.ciaddr).copy(head, 12);
  m.mac.copy(head, 28);
  head.writeUInt32BE(MAGIC, 236);
  const packet = Buffer.concat([head, ...opts]);
  return packet.length >= 300 ? packet : Buffer.concat([packet, Buffer.alloc(300 - packet.length)]);  // BOOTP minimum
}

/** Decodes a DHCP message; throws on anything structurally wrong. */
export function decodeDhcp4(buf: Buffer): Dhcp4Packet {
  if (buf.length < 241) throw new Error(`too short (${buf.length} bytes)`);
  if (buf[1] !== 1 || buf[2] !== 6) throw new Error('not an Ethernet DHCP message');
  if (buf.readUInt32BE(236) !== MAGIC) throw new Error('no DHCP magic cookie');
  const options = new Map<number, Buffer>();
  let i = 240;
  for (;;) {
    if (i >= buf.length) throw new Error('options end without END');
    const code = buf[i++];
    if (code === OPT.END) break;
    if (code === OPT.PAD) continue;
    if (i >= buf.length) throw new Error(`option ${code} is truncated`);
    const len = buf[i++];
    if (i + len > buf.length) throw new Error(`option ${code} runs past the end`);
    const value = buf.subarray(i, i + len);
    options.set(code, options.has(code) ? Buffer.concat([options.get(code)!, value]) : Buffer.from(value));
    i += len;
  }
  const type = options.get(OPT.MESSAGE_TYPE);
  if (!type || type.length !== 1) throw new Error('no message type');
  return {
    op: buf[0], xid: buf.readUInt32BE(4), secs: buf.readUInt16BE(8), flags: buf.readUInt16BE(10),
    ciaddr: formatIp(buf.subarray(12, 16)), yiaddr: formatIp(buf.subarray(16, 20)),
    chaddr: Buffer.from(buf.subarray(28, 34)), type: type[0], options,
  };
}

function addresses(value: Buffer | undefined, what: string): string[] {
  if (!value) return [];
  if (value.length === 0 || value.length % 4 !== 0) throw new Error(`${what} option of ${value.length} bytes`);
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 4) out.push(formatIp(value.subarray(i, i + 4)));
  return out;
}

function u32(value: Buffer | undefined, what: string): number | undefined {
  if (!value) return undefined;
  if (value.length !== 4) throw new Error(`${what} option of ${value.length} bytes`);
  return value.readUInt32BE(0);
}

/** A unicast host address a server may hand out (not 0/8, loopback, multicast, broadcast). */
function isHostAddress(a: string): boolean {
  const first = Number(a.split('.')[0]);
  return isIPv4(a) && first !== 0 && first !== 127 && first < 224;
}

/** The lease an ACK grants; throws when the ACK carries something unusable. */
export function leaseOf(ack: Dhcp4Packet): Dhcp4Lease {
  if (!isHostAddress(ack.yiaddr)) throw new Error(`unusable address ${ack.yiaddr}`);
  const o = ack.options;
  const mask = o.get(OPT.SUBNET_MASK);
  let prefixLen: number;
  if (mask) {
    if (mask.length !== 4) throw new Error('subnet mask option of wrong size');
    const hostBits = ~mask.readUInt32BE(0) >>> 0;
    prefixLen = Math.clz32(hostBits);  // the mask's leading ones
    if ((hostBits & (hostBits + 1)) !== 0 || prefixLen < 1) throw new Error(`subnet mask ${formatIp(mask)} is not a prefix`);
  } else {
    const first = Number(ack.yiaddr.split('.')[0]);
    prefixLen = first < 128 ? 8 : first < 192 ? 16 : 24;  // classful default (RFC 2131 leaves it to the client)
  }
  const leaseTime = u32(o.get(OPT.LEASE_TIME), 'lease time') ?? INFINITE;
  const seconds = (v: number) => (leaseTime === INFINITE ? Infinity : v);
  const renewal = u32(o.get(OPT.T1), 'renewal time') ?? Math.floor(leaseTime / 2);
  const rebinding = u32(o.get(OPT.T2), 'rebinding time') ?? Math.floor(leaseTime * 0.875);
  const search = o.get(OPT.SEARCH);
  const domains = search ? decodeNames(search) : [];  // RFC 3397: pointers relative to the option
  const domain = o.get(OPT.DOMAIN)?.toString('latin1').replace(/\0+$/, '');
  if (domain && !domains.includes(domain)) domains.unshift(domain);
  const mtu = o.get(OPT.MTU);
  return {
    address: ack.yiaddr,
    prefixLen,
    server: addresses(o.get(OPT.SERVER_ID), 'server identifier')[0],
    routers: addresses(o.get(OPT.ROUTER), 'router').filter(isHostAddress),
    dns: addresses(o.get(OPT.DNS), 'DNS server').filter(isHostAddress),
    domains: domains.filter(isDomainName),
    mtu: mtu?.length === 2 && mtu.readUInt16BE(0) >= 68 ? mtu.readUInt16BE(0) : undefined,
    leaseTime: seconds(leaseTime),
    renewalTime: seconds(Math.min(renewal, leaseTime)),
    rebindingTime: seconds(Math.min(Math.max(rebinding, renewal), leaseTime)),
    obtained: new Date(),
  };
}

/** What one client sends with: its hardware address, optional host name, and the socket. */
export interface Dhcp4Identity {
  fd: number;
  mac: Buffer;
  fqdn?: string;
}

const PARAMS = [OPT.SUBNET_MASK, OPT.ROUTER, OPT.DNS, OPT.DOMAIN, OPT.MTU, OPT.BROADCAST, OPT.LEASE_TIME,
  OPT.SERVER_ID, OPT.T1, OPT.T2, OPT.SEARCH];

function commonOptions(id: Dhcp4Identity): [number, Buffer][] {
  const options: [number, Buffer][] = [
    [OPT.CLIENT_ID, Buffer.concat([Buffer.from([1]), id.mac])],
    [OPT.PARAMS, Buffer.from(PARAMS)],
    [OPT.MAX_SIZE, Buffer.from([0x05, 0xdc])],
  ];
  if (id.fqdn) {
    options.push([OPT.HOSTNAME, Buffer.from(id.fqdn.split('.')[0])]);
    // Client FQDN (RFC 4702): flags E (canonical wire format) and S (server updates A), name.
    options.push([OPT.FQDN, Buffer.concat([Buffer.from([0x05, 0, 0]), encodeName(id.fqdn)])]);
  }
  return options;
}

/** A reply for this client and transaction, of one of `types`, from `server` if given; else null. */
export function acceptReply(
  d: Datagram, xid: number, mac: Buffer, types: number[], server?: string,
): Dhcp4Packet | null {
  if (d.port !== SERVER_PORT) return null;
  let p: Dhcp4Packet;
  try {
    p = decodeDhcp4(d.data);
  } catch {
    return null;
  }
  if (p.op !== 2 || p.xid !== xid || !p.chaddr.equals(mac) || !types.includes(p.type)) return null;
  let id: string | undefined;
  try {
    id = addresses(p.options.get(OPT.SERVER_ID), 'server identifier')[0];
  } catch {
    return null;
  }
  if (!id || (server !== undefined && id !== server)) return null;
  if (p.type === DHCP.OFFER || p.type === DHCP.ACK) {
    try {
      leaseOf(p);
    } catch {
      return null;
    }
  }
  return p;
}

// node:crypto at first use, as node:net: loaded by a configuration that runs DHCP only.
const newXid = () => (require('node:crypto') as typeof import('node:crypto')).randomBytes(4).readUInt32BE(0);
const BROADCAST = { address: '255.255.255.255', port: SERVER_PORT };

/** DISCOVER → OFFER → REQUEST → ACK. Null when no server answered; 'nak' when refused. */
export function* acquire(id: Dhcp4Identity): Exchange<Dhcp4Lease | 'nak' | null> {
  const xid = newXid();
  const start = Date.now();
  const secs = () => Math.floor((Date.now() - start) / 1000);
  const offer = yield* transact(
    () => ({
      ...BROADCAST,
      send: encodeDhcp4({
        type: DHCP.DISCOVER, xid, mac: id.mac, secs: secs(), broadcast: true, options: commonOptions(id),
      }),
    }),
    (d) => acceptReply(d, xid, id.mac, [DHCP.OFFER]), TIMEOUTS);
  if (!offer) return null;
  const server = leaseOf(offer).server;
  const reply = yield* transact(
    () => ({
      ...BROADCAST,
      send: encodeDhcp4({
        type: DHCP.REQUEST, xid, mac: id.mac, secs: secs(), broadcast: true,
        options: [[OPT.REQUESTED_IP, ip4(offer.yiaddr)], [OPT.SERVER_ID, ip4(server)], ...commonOptions(id)],
      }),
    }),
    (d) => acceptReply(d, xid, id.mac, [DHCP.ACK, DHCP.NAK], server), TIMEOUTS);
  if (!reply) return null;
  return reply.type === DHCP.NAK ? 'nak' : leaseOf(reply);
}

/** REQUEST for the lease held: unicast to its server (renewing) or broadcast (rebinding). */
export function* renew(id: Dhcp4Identity, lease: Dhcp4Lease, rebinding: boolean): Exchange<Dhcp4Lease | 'nak' | null> {
  const xid = newXid();
  const to = rebinding ? BROADCAST : { address: lease.server, port: SERVER_PORT };
  const reply = yield* transact(
    () => ({
      ...to,
      send: encodeDhcp4({ type: DHCP.REQUEST, xid, mac: id.mac, ciaddr: lease.address, options: commonOptions(id) }),
    }),
    (d) => acceptReply(d, xid, id.mac, [DHCP.ACK, DHCP.NAK], rebinding ? undefined : lease.server), TIMEOUTS);
  if (!reply) return null;
  return reply.type === DHCP.NAK ? 'nak' : leaseOf(reply);
}

/** RELEASE: tells the server the address is free again (no answer comes). */
export function release(id: Dhcp4Identity, lease: Dhcp4Lease): void {
  const packet = encodeDhcp4({
    type: DHCP.RELEASE, xid: newXid(), mac: id.mac, ciaddr: lease.address,
    options: [[OPT.SERVER_ID, ip4(lease.server)], [OPT.CLIENT_ID, Buffer.concat([Buffer.from([1]), id.mac])]],
  });
  native.sendTo(id.fd, packet, 4, ip4(lease.server), SERVER_PORT, 0);
}

/** The client's socket: UDP port 68 on `iface` only, allowed to broadcast. */
export function openClientSocket(stack: ConfigTarget, iface: string): number {
  return preparedSocket(() => stack.socketFd(4, 'udp'), (fd) => {
    native.setSocketOption(fd, 'bindtodevice', iface);
    native.bindSocket(fd, 4, Buffer.alloc(4), CLIENT_PORT, true, false);
    native.setSocketOption(fd, 'broadcast', true);
  });
}
