// IPv6 zones ("fe80::1%vde0") named on the stack. libuv turns a zone into sin6_scope_id with
// if_nametoindex in the process's own network namespace (uv_ip6_addr), where the stack's
// interfaces do not exist: the zone was lost (scope 0: the kernel refuses a link-local bind or
// connect with EINVAL) or named a host interface. Here the zone is looked up on the stack the way
// libuv looks it up on the host: as an interface name (a number too, as libuv on Linux does), an
// unknown one being scope 0. The address then goes to libuv without its zone, and the scope
// reaches the socket as its device (SO_BINDTODEVICE): what a bind or connect with sin6_scope_id
// sets in the kernel (sk_bound_dev_if). A datagram to a zoned address is sent with its scope.
// (Addresses are read with ip-syntax, not node:net: the override loads this file before the app.)
import { parseIp } from '../internal/address';
import { isIPv6 } from '../internal/ip-syntax';
import { native } from '../internal/native';
import type { SocketSource } from './source';

/** "fe80::1%vde0" as ["fe80::1", "vde0"]; an address without a zone as [address, undefined]. */
export function splitZone(address: string): [string, string | undefined] {
  const at = address.indexOf('%');
  return at < 0 ? [address, undefined] : [address.slice(0, at), address.slice(at + 1)];
}

/**
 * Whether the kernel uses an address's scope (__ipv6_addr_needs_scope_id): link-local unicast
 * (fe80::/10) and interface- or link-local multicast (ffx1::, ffx2::). For others it ignores it.
 */
export function needsScope(address: string): boolean {
  if (!isIPv6(address)) return false;
  const bytes = parseIp('address', address).bytes;
  if (bytes[0] === 0xfe && (bytes[1] & 0xc0) === 0x80) return true;
  return bytes[0] === 0xff && ((bytes[1] & 0x0f) === 1 || (bytes[1] & 0x0f) === 2);
}

/** The index of the interface called `zone` on the stack; 0 (libuv's "unknown") when none is. */
export function zoneIndex(stack: SocketSource, zone: string): number {
  try {
    return stack.ifNameToIndex(zone);
  } catch {
    return 0;
  }
}

/** An address with a zone that the stack has and the kernel uses: the address, the zone, its index. */
export interface Scoped {
  address: string;
  zone: string;
  index: number;
}

/**
 * `address` for libuv, without its zone, and the scope to give the socket instead (null when
 * there is none to give: no zone, an unknown one, or an address that takes none, whose zone
 * libuv's own lookup would have left without effect too).
 */
export function scopeOf(stack: SocketSource, address: string): { address: string; scoped: Scoped | null } {
  const [bare, zone] = splitZone(address);
  if (zone === undefined || !isIPv6(bare)) return { address, scoped: null };
  const index = needsScope(bare) ? zoneIndex(stack, zone) : 0;
  return { address: bare, scoped: index > 0 ? { address: bare, zone, index } : null };
}

/**
 * libuv 1.47 on (Node 22 on) gives a TCP connect to a link-local address (fe80::/16) without a
 * scope the first link-local interface of the host's (getifaddrs) instead (uv__tcp_connect): the
 * stack's first one here, as getifaddrs would list the stack's addresses. Null where this libuv
 * does not, for another address, or when the stack has no link-local address.
 */
export function defaultTcpScope(stack: SocketSource, address: string): Scoped | null {
  if (!LIBUV_PICKS_LINK_LOCAL || !isIPv6(address)) return null;
  const bytes = parseIp('address', address).bytes;
  if (bytes[0] !== 0xfe || bytes[1] !== 0x80) return null;
  const first = stack.addresses().find((a) => a.family === 'IPv6' && a.address.startsWith('fe80:') && a.interface);
  return first ? { address, zone: first.interface!, index: first.ifindex } : null;
}

const [uvMajor, uvMinor] = process.versions.uv.split('.').map(Number);
const LIBUV_PICKS_LINK_LOCAL = uvMajor > 1 || (uvMajor === 1 && uvMinor >= 47);

/** Gives socket `fd` the device of a scope: as the kernel does for a bind or connect with one. */
export function bindToScope(fd: number, scoped: Scoped): void {
  native.setSocketOption(fd, 'bindtodevice', scoped.zone);
}
