// What the resolver needs from a stack: UDP and TCP sockets on it, and optionally the stack's own
// names and addresses. Nothing here touches the host: every packet goes through these sockets.
import type * as dgram from 'node:dgram';
import type * as net from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';

export interface DnsTransport {
  /**
   * A new UDP socket on the stack, for family 4 or 6, unbound: connect()/send() let the stack's
   * kernel pick a random source port; with a source address set (Resolver#setLocalAddress) the
   * resolver binds it to that address and port 0 first.
   */
  udpSocket(family: 4 | 6): dgram.Socket;
  /** A new TCP socket on the stack connecting to ip:port (ip is a literal address), from localAddress if given. */
  tcpConnect(ip: string, port: number, localAddress?: string): net.Socket;
  /** Names and addresses of the stack itself for the hosts table (e.g. its own hostname). */
  hosts?(): Array<{ name: string; address: string }>;
  /**
   * The stack's addresses in os.networkInterfaces() shape (Stack#interfaces() fits), for lookup's
   * ADDRCONFIG hint. Without it ADDRCONFIG filters nothing.
   */
  interfaces?(): NodeJS.Dict<NetworkInterfaceInfo[]>;
  /**
   * The source address the stack would use to reach `address`, or null with no route there, for
   * lookup()'s answer order. Without it, a UDP socket from udpSocket() is connected there and asked.
   */
  sourceAddress?(address: string): string | null;
}
