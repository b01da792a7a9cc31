// The source address the stack picks to reach an address: a UDP socket of the stack connected there
// (connect sends nothing for UDP) and asked its name, as glibc's getaddrinfo asks the host's
// kernel for each answer it sorts (dns/address-order.ts). Synchronous and cheap (a socket by
// setns, two calls), against ~130 µs for the same through node:dgram.
import { closeSync } from 'node:fs';
import { parseIp } from '../internal/address';
import { native } from '../internal/native';
import type { SocketSource } from './source';
import { scopeOf } from './zone';

/** The stack's source address towards `address` (a zone is the stack's), or null when it has no route there. */
export function sourceAddressOn(stack: SocketSource, address: string): string | null {
  const { address: bare, scoped } = scopeOf(stack, address);
  let ip;
  try {
    ip = parseIp('address', bare.split('%')[0]);
  } catch {
    return null;
  }
  const fd = stack.socketFd(ip.family, 'udp');
  try {
    native.connectSocket(fd, ip.family, ip.bytes, 9, scoped?.index ?? 0);
    return native.socketName(fd, false).address;
  } catch {
    return null; // ENETUNREACH, EADDRNOTAVAIL...: unusable, as for getaddrinfo
  } finally {
    closeSync(fd);
  }
}
