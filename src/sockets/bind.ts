// Opening stack sockets for Node: a stack fd bound natively (servers, dgram), or opened lazily into
// a TCP handle right before its first bind/connect (clients), so every byte uses the stack.
import * as net from 'node:net';
import { parseIp } from '../internal/address';
import { IothError, withContext } from '../internal/errors';
import { native } from '../internal/native';
import type { SocketSource } from './source';

export interface BindOptions {
  reuseAddr?: boolean;
  /** SO_REUSEPORT, as Node's dgram `reusePort` (Node 22.12+/23.1+). */
  reusePort?: boolean;
  ipv6Only?: boolean;
}

/**
 * A new stack socket bound to address:port. Failures are Node-style errors (syscall `syscall`,
 * `address`, `port`) and leave no descriptor behind.
 */
export function boundSocket(stack: SocketSource, kind: 'tcp' | 'udp', address: string, port: number,
  options: BindOptions, syscall: string): number {
  const ip = parseIp('address', address);
  const fd = stack.socketFd(ip.family, kind);
  try {
    if (options.reusePort) native.setSocketOption(fd, 'reuseport', true);
    native.bindSocket(fd, ip.family, ip.bytes, port, options.reuseAddr ?? kind === 'tcp', options.ipv6Only ?? false);
  } catch (err) {
    require('node:fs').closeSync(fd);
    // Named by the call Node's API made (listen, bind), whichever system call failed under it.
    throw withContext(err, `${address}:${port} on the ${stack.plugin} stack`, { address, port, syscall });
  }
  return fd;
}

/** A libuv TCP or UDP handle of Node's tcp_wrap / udp_wrap bindings. */
export interface UvHandle {
  fd: number;
  open(fd: number): number;
  [method: string]: unknown;
}

/**
 * Opens a socket of `stack` into `handle` if the handle has none yet (libuv creates a handle's
 * socket lazily, at its first bind/connect/listen/send). Returns a libuv status, as the handle's
 * own methods do: 0, or a negative errno.
 */
export function openStackSocket(handle: UvHandle, stack: SocketSource, family: 4 | 6, kind: 'tcp' | 'udp'): number {
  if (handle.fd >= 0) return 0;
  let fd: number;
  try {
    fd = stack.socketFd(family, kind);
  } catch (err) {
    const errno = (err as IothError).errno;
    return typeof errno === 'number' ? errno : -22;
  }
  const rc = handle.open(fd);
  if (rc !== 0) require('node:fs').closeSync(fd);
  return rc;
}

/**
 * Sets SO_REUSEADDR of a UDP socket that was opened into a handle back to what Node asked for:
 * libuv's uv_udp_open (Node's bind({ fd }) and the handle's open()) always turns it on, where a
 * socket libuv makes itself gets it only from the bind flag UV_UDP_REUSEADDR (dgram's `reuseAddr`).
 * Left on, a second socket could bind a port in use (natively EADDRINUSE). Returns a libuv status.
 */
export function setUdpReuseAddr(fd: number, on: boolean): number {
  try {
    native.setSocketOption(fd, 'reuseaddr', on);
    return 0;
  } catch (err) {
    const errno = (err as IothError).errno;
    return typeof errno === 'number' ? errno : -22;
  }
}

/** Wraps the methods of `target` that may create the socket so that they open a stack one first. */
export function wrapSocketMethods(target: Record<string, unknown>, methods: ReadonlyArray<readonly [string, 4 | 6]>,
  stack: SocketSource, kind: 'tcp' | 'udp'): () => void {
  const originals = methods.map(([name]) => [name, target[name]] as const);
  for (const [name, family] of methods) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    // A UDP bind sets SO_REUSEADDR from its flags (after the open turned it on): start from off.
    // A send or connect on an unbound handle keeps it on, as libuv's own implicit bind does.
    const bindsUdp = kind === 'udp' && (name === 'bind' || name === 'bind6');
    target[name] = function (this: UvHandle, ...args: unknown[]): unknown {
      const opened = this.fd < 0;
      let rc = openStackSocket(this, stack, family, kind);
      if (rc === 0 && opened && bindsUdp) rc = setUdpReuseAddr(this.fd, false);
      return rc !== 0 ? rc : original.apply(this, args);
    };
  }
  return () => {
    for (const [name, original] of originals) target[name] = original;
  };
}

const adopted = new WeakSet<object>();

/** Makes one TCP handle (no socket yet) open a socket of `stack` at its first bind or connect. */
export function adoptTcpHandle(handle: unknown, stack: SocketSource): void {
  const h = handle as UvHandle | null;
  if (!h || typeof h !== 'object' || adopted.has(h) || h.constructor?.name !== 'TCP') return;
  adopted.add(h);
  wrapSocketMethods(h, [['bind', 4], ['connect', 4], ['bind6', 6], ['connect6', 6]], stack, 'tcp');
}

/**
 * Makes every TCP handle that Node gives to a socket of `SocketClass` adopt `stack`: net.Socket
 * keeps its handle behind the `_handle` accessor of its prototype, which the subclass wraps.
 */
export function adoptSocketHandles(SocketClass: typeof net.Socket, stack: SocketSource): void {
  const parent = Object.getOwnPropertyDescriptor(net.Socket.prototype, '_handle');
  if (!parent?.get || !parent.set) {
    throw new Error(`iothts: this Node.js (${process.version}) keeps net.Socket#_handle differently; stack.net needs Node 20 or later`);
  }
  const { get, set } = parent;
  Object.defineProperty(SocketClass.prototype, '_handle', {
    configurable: true,
    get(this: net.Socket) {
      return get.call(this);
    },
    set(this: net.Socket, value: unknown) {
      adoptTcpHandle(value, stack);
      set.call(this, value);
    },
  });
}
