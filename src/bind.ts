// Opening stack sockets for Node: a stack fd bound natively (servers, dgram), or opened lazily into
// a TCP handle right before its first bind/connect (clients), so every byte uses the stack.
import * as net from 'node:net';
import { parseIp } from './address';
import { IothError, withContext } from './errors';
import { native } from './native';
import type { Stack } from './stack';

export interface BindOptions {
  reuseAddr?: boolean;
  ipv6Only?: boolean;
}

/**
 * A new stack socket bound to address:port. Failures are Node-style errors (syscall `syscall`,
 * `address`, `port`) and leave no descriptor behind.
 */
export function boundSocket(stack: Stack, kind: 'tcp' | 'udp', address: string, port: number,
  options: BindOptions, syscall: string): number {
  const ip = parseIp('address', address);
  const fd = stack.socketFd(ip.family, kind);
  try {
    native.bindSocket(fd, ip.family, ip.bytes, port, options.reuseAddr ?? kind === 'tcp', options.ipv6Only ?? false);
  } catch (err) {
    require('node:fs').closeSync(fd);
    const e = withContext(err, `${address}:${port} on the ${stack.plugin} stack`, { address, port });
    e.syscall = syscall;
    e.message = `${syscall} ${e.code}: ${e.message.replace(/^\S+ \S+: /, '')}`;
    throw e;
  }
  return fd;
}

interface TcpHandle {
  fd: number;
  open(fd: number): number;
  [method: string]: unknown;
}

const adopted = new WeakSet<object>();

/**
 * Makes a libuv TCP handle (fd not yet created) open a socket of `stack` of the right family at its
 * first bind or connect. libuv creates a handle's socket lazily, so the host never gets one.
 */
export function adoptTcpHandle(handle: unknown, stack: Stack): void {
  const h = handle as TcpHandle | null;
  if (!h || typeof h !== 'object' || adopted.has(h) || h.constructor?.name !== 'TCP') return;
  adopted.add(h);
  for (const [method, family] of [['bind', 4], ['connect', 4], ['bind6', 6], ['connect6', 6]] as const) {
    const original = h[method] as ((...args: unknown[]) => number) | undefined;
    if (typeof original !== 'function') continue;
    h[method] = function (this: TcpHandle, ...args: unknown[]): number {
      if (this.fd < 0) {
        let fd: number;
        try {
          fd = stack.socketFd(family, 'tcp');
        } catch (err) {
          return typeof (err as IothError).errno === 'number' ? (err as IothError).errno as number : -22;
        }
        const rc = this.open(fd);
        if (rc !== 0) {
          require('node:fs').closeSync(fd);
          return rc;
        }
      }
      return original.apply(this, args);
    };
  }
}

/**
 * Makes every TCP handle that Node gives to a socket of `SocketClass` adopt `stack`: net.Socket
 * keeps its handle behind the `_handle` accessor of its prototype, which the subclass wraps.
 */
export function adoptSocketHandles(SocketClass: typeof net.Socket, stack: Stack): void {
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
