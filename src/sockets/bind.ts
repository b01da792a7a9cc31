// Opening stack sockets for Node: a stack fd bound natively (servers, dgram), or opened lazily into
// a TCP handle right before its first bind/connect (clients), so every byte uses the stack.
import type * as net from 'node:net';
import { parseIp } from '../internal/address';
import { IothError, uvErrno, withContext } from '../internal/errors';
import { native } from '../internal/native';
import type { SocketSource } from './source';
import { bindToScope, defaultTcpScope, scopeOf, type Scoped } from './zone';

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
  const { address: bare, scoped } = scopeOf(stack, address);
  const ip = parseIp('address', bare);
  const fd = stack.socketFd(ip.family, kind);
  try {
    if (scoped) bindToScope(fd, scoped);
    if (options.reusePort) native.setSocketOption(fd, 'reuseport', true);
    native.bindSocket(fd, ip.family, ip.bytes, port, options.reuseAddr ?? kind === 'tcp', options.ipv6Only ?? false);
  } catch (err) {
    require('node:fs').closeSync(fd);
    // Named by the call Node's API made (listen, bind), whichever system call failed under it.
    // As Node's exceptionWithHostPort: a port only when one was asked for.
    throw withContext(err, `${address}:${port} on the ${stack.plugin} stack`, { address, ...(port > 0 ? { port } : {}), syscall });
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
    // A closed stack has no network left: ENETDOWN, never a socket of the host instead.
    if ((err as IothError).code === 'ERR_IOTH_STACK_CLOSED') return uvErrno('ENETDOWN') ?? -22;
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
    return libuvStatus(err);
  }
}

/**
 * The stack of the handle patch: one stack, or a function choosing one for a handle (the override
 * with scopes, src/override/override.ts); null there leaves the handle to Node (the host).
 */
export type StackChoice = SocketSource | ((handle: UvHandle) => SocketSource | null);

const choose = (stack: StackChoice, handle: UvHandle): SocketSource | null =>
  (typeof stack === 'function' ? stack(handle) : stack);

/** An error of the addon as the negative errno a handle's method returns. */
function libuvStatus(err: unknown): number {
  const errno = (err as IothError).errno;
  return typeof errno === 'number' ? errno : -22;
}

/**
 * Where a handle method takes its address: bind(address, port, flags), TCP connect(req, address,
 * port), UDP connect(address, port), UDP send(req, list, count, port, address, hasCallback) (a
 * connected socket's send has no address); -1 for the others.
 */
function addressArgument(kind: 'tcp' | 'udp', name: string): number {
  const method = name.replace(/6$/, '');
  if (method === 'bind') return 0;
  if (method === 'connect') return kind === 'tcp' ? 1 : 0;
  return method === 'send' && kind === 'udp' ? 4 : -1;
}

/**
 * A UDP handle's send(req, list, count, port, address, hasCallback) to a zoned address, done here
 * with the scope (libuv's send would take the address without it). Returns what the handle's send
 * returns for a datagram sent at once (its length + 1), or an error status; null to leave it to
 * libuv (a datagram too large here, or a full send buffer: libuv queues it and tells later).
 */
function sendScoped(fd: number, args: unknown[], scoped: Scoped): number | null {
  const [, list, count, port] = args as [unknown, ArrayBufferView[], number, number];
  const data = Buffer.concat(list.slice(0, count).map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
  if (data.length > 65507) return null;
  try {
    native.sendTo(fd, data, 6, parseIp('address', scoped.address).bytes, port, scoped.index);
    return data.length + 1;
  } catch (err) {
    const code = (err as IothError).code;
    return code === 'EAGAIN' || code === 'EWOULDBLOCK' ? null : libuvStatus(err);
  }
}

/**
 * Makes a handle's getsockname/getpeername name a link-local address's zone on the stack: Node's
 * own (AddressToJS) asks if_indextoname in the process's namespace, which throws ENXIO
 * (uv_if_indextoiid) or names a host interface. Returns a function that undoes it.
 */
export function wrapNameMethods(target: Record<string, unknown>, choice: StackChoice): () => void {
  const originals = NAME_METHODS.map((name) => [name, target[name]] as const);
  for (const [name, original] of originals) {
    if (typeof original !== 'function') continue;
    target[name] = function (this: UvHandle, out: Record<string, unknown>): unknown {
      let rc: unknown;
      let failure: unknown;
      try {
        rc = original.call(this, out);
      } catch (err) {
        if ((err as IothError).syscall !== 'uv_if_indextoiid') throw err;
        failure = err;
      }
      if (failure === undefined && !(rc === 0 && typeof out.address === 'string' && out.address.includes('%'))) return rc;
      const stack = choose(choice, this);
      if (stack === null) {
        if (failure !== undefined) throw failure;
        return rc;
      }
      try {
        const own = native.socketName(this.fd, name === 'getpeername');
        out.address = `${own.address}%${stack.ifIndexToName(own.scopeId)}`;
        out.family = 'IPv6';
        out.port = own.port;
        return 0;
      } catch {
        if (failure !== undefined) throw failure;
        return rc;
      }
    };
  }
  return () => {
    for (const [name, original] of originals) target[name] = original;
  };
}

const NAME_METHODS = ['getsockname', 'getpeername'];

/** Wraps the methods of `target` that may create the socket so that they open a stack one first. */
export function wrapSocketMethods(target: Record<string, unknown>, methods: ReadonlyArray<readonly [string, 4 | 6]>,
  choice: StackChoice, kind: 'tcp' | 'udp'): () => void {
  const undoNames = wrapNameMethods(target, choice);
  const originals = methods.map(([name]) => [name, target[name]] as const);
  for (const [name, family] of methods) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    // A UDP bind sets SO_REUSEADDR from its flags (after the open turned it on): start from off.
    // A send or connect on an unbound handle keeps it on, as libuv's own implicit bind does.
    const bindsUdp = kind === 'udp' && (name === 'bind' || name === 'bind6');
    const at = addressArgument(kind, name);
    target[name] = function (this: UvHandle, ...args: unknown[]): unknown {
      const stack = choose(choice, this);
      if (stack === null) return original.apply(this, args);
      const opened = this.fd < 0;
      let rc = openStackSocket(this, stack, family, kind);
      if (rc === 0 && opened && bindsUdp) rc = setUdpReuseAddr(this.fd, false);
      if (rc !== 0) return rc;
      const given = at >= 0 && at < args.length ? args[at] : undefined;
      if (typeof given === 'string' && (given.includes('%') || name === 'connect6')) {
        // libuv would name the zone on the host: on the stack instead (zone.ts).
        const { address, scoped: zoned } = scopeOf(stack, given);
        args[at] = address;
        const scoped = zoned ?? (kind === 'tcp' && name === 'connect6' ? defaultTcpScope(stack, address) : null);
        if (scoped && name.startsWith('send')) {
          const sent = sendScoped(this.fd, args, scoped);
          if (sent !== null) return sent;
        } else if (scoped) {
          try {
            bindToScope(this.fd, scoped);
          } catch (err) {
            return libuvStatus(err);
          }
        }
      }
      return original.apply(this, args);
    };
  }
  return () => {
    for (const [name, original] of originals) target[name] = original;
    undoNames();
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
 * Makes a stack server's listening handle, and every connection it accepts (handles Node's C++
 * makes), name link-local zones on the stack (wrapNameMethods).
 */
export function adoptServerHandle(handle: unknown, stack: SocketSource): void {
  const h = handle as Record<string, unknown> | null;
  if (!h || typeof h !== 'object' || adopted.has(h)) return;
  adopted.add(h);
  wrapNameMethods(h, stack);
  const onconnection = h.onconnection;
  if (typeof onconnection !== 'function') return;
  h.onconnection = function (this: unknown, err: unknown, client: unknown, ...rest: unknown[]): unknown {
    if (client && typeof client === 'object') wrapNameMethods(client as Record<string, unknown>, stack);
    return onconnection.call(this, err, client, ...rest);
  };
}

/**
 * Makes every TCP handle that Node gives to a socket of `SocketClass` adopt `stack`: net.Socket
 * keeps its handle behind the `_handle` accessor of its prototype, which the subclass wraps.
 */
export function adoptSocketHandles(SocketClass: typeof net.Socket, stack: SocketSource): void {
  // node:net at first use: the override (which needs this file) must not load it for the app.
  const { Socket } = require('node:net') as typeof net;
  const parent = Object.getOwnPropertyDescriptor(Socket.prototype, '_handle');
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
