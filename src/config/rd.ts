// IPv6 router discovery (RFC 4861): a router solicitation from a raw ICMPv6 socket of the stack,
// and the first router advertisement that answers, read for its prefixes, MTU, DNS servers (RDNSS)
// and search domains (DNSSL, RFC 8106). On vdestack the namespace's kernel also acts on the same
// advertisement (accept_ra and autoconf are on by default there): it adds the default route and
// its own EUI-64 addresses; iothts records what the advertisement said, adds what the kernel
// cannot know (the fqdn-derived address) and can take it back with -rd.
import { formatIp } from '../internal/address';
import { native } from '../internal/native';
import type { ConfigTarget } from './target';
import { Datagram, Exchange, preparedSocket, transact } from './exchange';
import { decodeNames } from './names';
import { isDomainName } from '../internal/validators';

const ICMPV6 = 58;
const SOLICIT = 133;
const ADVERT = 134;
const ALL_ROUTERS = 'ff02::2';
const TIMEOUTS = [1000, 1000, 1000];

export interface PrefixInfo {
  prefix: string;
  prefixLen: number;
  onLink: boolean;
  autonomous: boolean;
  validLifetime: number;
  preferredLifetime: number;
}

export interface RouterAdvertisement {
  /** The router's link-local address. */
  router: string;
  /** Seconds the router is a default router for (0: not a default router). */
  lifetime: number;
  /** The M and O flags: addresses (managed) or other settings (other) from DHCPv6. */
  managed: boolean;
  other: boolean;
  prefixes: PrefixInfo[];
  mtu?: number;
  dns: string[];
  domains: string[];
}

/** Decodes a router advertisement; throws on a malformed one. */
export function decodeAdvertisement(data: Buffer, router: string): RouterAdvertisement {
  if (data.length < 16 || data[0] !== ADVERT || data[1] !== 0) throw new Error('not a router advertisement');
  const ra: RouterAdvertisement = {
    router, lifetime: data.readUInt16BE(6), managed: (data[5] & 0x80) !== 0, other: (data[5] & 0x40) !== 0,
    prefixes: [], dns: [], domains: [],
  };
  for (let i = 16; i < data.length;) {
    if (i + 2 > data.length) throw new Error('truncated option');
    const type = data[i];
    const len = data[i + 1] * 8;
    if (len === 0 || i + len > data.length) throw new Error(`option ${type} of bad length`);
    const o = data.subarray(i, i + len);
    if (type === 3 && len === 32) {
      const prefixLen = o[2];
      if (prefixLen > 128) throw new Error('prefix length over 128');
      ra.prefixes.push({
        prefix: formatIp(o.subarray(16, 32)), prefixLen, onLink: (o[3] & 0x80) !== 0, autonomous: (o[3] & 0x40) !== 0,
        validLifetime: o.readUInt32BE(4), preferredLifetime: o.readUInt32BE(8),
      });
    } else if (type === 5 && len === 8) {
      ra.mtu = o.readUInt32BE(4);
    } else if (type === 25 && len >= 24 && (len - 8) % 16 === 0) {
      if (o.readUInt32BE(4) > 0) for (let j = 8; j < len; j += 16) ra.dns.push(formatIp(o.subarray(j, j + 16)));
    } else if (type === 31 && len >= 16) {
      // Names padded with zeros up to the option's end.
      if (o.readUInt32BE(4) > 0) ra.domains.push(...decodeNames(o.subarray(8), true).filter(isDomainName));
    }
    i += len;
  }
  return ra;
}

function accept(d: Datagram): RouterAdvertisement | null {
  if (!d.address.startsWith('fe80:') || d.data[0] !== ADVERT) return null;  // routers speak from link-local addresses
  try {
    return decodeAdvertisement(d.data, d.address);
  } catch {
    return null;
  }
}

/** Solicits and waits for a router advertisement (about 3 s at most); null when none came. */
export function* discover(ifindex: number, mac: Buffer): Exchange<RouterAdvertisement | null> {
  // type, code, checksum (the kernel fills it in), reserved; source link-layer address option.
  const solicit = Buffer.concat([Buffer.from([SOLICIT, 0, 0, 0, 0, 0, 0, 0, 1, 1]), mac]);
  return yield* transact(() => ({ send: solicit, address: ALL_ROUTERS, port: 0, scopeId: ifindex }), accept, TIMEOUTS);
}

/** A raw ICMPv6 socket on `iface`, sending with hop limit 255 as neighbour discovery requires. */
export function openIcmpSocket(stack: ConfigTarget, iface: string): number {
  return preparedSocket(() => stack.socketFd(6, 'raw', ICMPV6), (fd) => {
    native.setSocketOption(fd, 'bindtodevice', iface);
    native.setSocketOption(fd, 'multicast_hops6', 255);
  });
}
