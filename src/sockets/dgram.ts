// stack.dgram: node:dgram with every UDP socket on one stack. bind() (also the implicit one of
// send() and connect()) binds a stack socket and hands it to Node with bind({ fd }).
import * as dgram from 'node:dgram';
import { isIP } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { LookupFunction } from 'node:net';

import { boundSocket, setUdpReuseAddr, wrapSocketMethods } from './bind';
import { codedError, invalidArgType, stackClosed } from '../internal/errors';
import type { SocketSource } from './source';
import { receiveOnStack } from './udp-receive';
import { validatePort } from '../internal/validators';

/** `stack.dgram`: node:dgram with every UDP socket on the stack. */
export interface StackDgram {
  Socket: typeof dgram.Socket;
  createSocket(
    type: dgram.SocketType | dgram.SocketOptions, listener?: (msg: Buffer, rinfo: dgram.RemoteInfo) => void,
  ): dgram.Socket;
}

/**
 * Whether Node will bind `socket` with SO_REUSEPORT: its `reusePort` option, which Node keeps in
 * the socket's state from 22.12/23.1 on (and ignores before), so the answer is this Node's.
 */
function nodeReusePort(socket: dgram.Socket): boolean {
  return Boolean(nodeState(socket)?.reusePort);
}

/** Node's own state of a dgram socket (its handle, its options), kept under a symbol. */
function nodeState(socket: dgram.Socket): { reusePort?: unknown; handle?: unknown } | undefined {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  return state && (socket as unknown as Record<symbol, { reusePort?: unknown; handle?: unknown } | undefined>)[state];
}

export function createStackDgram(stack: SocketSource, lookup: () => LookupFunction): StackDgram {
  class Socket extends dgram.Socket {
    readonly #udp6: boolean;
    readonly #reuseAddr: boolean;
    readonly #reusePort: boolean;
    readonly #ipv6Only: boolean;
    #bindCalled = false;
    #deferListening = false;

    constructor(
      type: dgram.SocketType | dgram.SocketOptions, listener?: (msg: Buffer, rinfo: dgram.RemoteInfo) => void,
    ) {
      if (stack.closed) throw stackClosed('create a UDP socket');
      // Inheriting rather than spreading: a Buffer given as options would be copied byte by byte.
      const options: dgram.SocketOptions = typeof type === 'object' && type !== null ? Object.create(type) : { type };
      options.lookup ??= lookup() as dgram.SocketOptions['lookup'];
      // @types/node declares no constructor arguments; Node's takes (type | options, listener).
      super(...([options, listener] as unknown as []));
      this.#udp6 = options.type === 'udp6';
      this.#reuseAddr = Boolean(options.reuseAddr);
      this.#reusePort = nodeReusePort(this);
      this.#ipv6Only = Boolean(options.ipv6Only);
      // A udp6 handle's send and connect (its own properties, Node's send6/connect6) name zones on the stack.
      const handle = nodeState(this)?.handle as Record<string, unknown> | undefined;
      if (this.#udp6 && handle) wrapSocketMethods(handle, [['connect', 6], ['send', 6]], stack, 'udp');
      // And it receives through iothts, which names a link-local sender's zone on the stack (udp-receive.ts).
      if (this.#udp6 && handle) receiveOnStack(handle);
    }

    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'listening' && this.#deferListening) {
        process.nextTick(() => super.emit('listening'));
        return this.listenerCount('listening') > 0;
      }
      return super.emit(event, ...args);
    }

    override bind(...args: unknown[]): this {
      const [first, second] = args;
      const cb = typeof args[args.length - 1] === 'function' ? args[args.length - 1] as () => void : undefined;
      const options = first !== null && typeof first === 'object' ? first as dgram.BindOptions & { recvmsg?: unknown } : undefined;
      if (options && (typeof options.fd === 'number' || typeof options.recvmsg === 'function')) {
        return super.bind(...(args as Parameters<dgram.Socket['bind']>));
      }
      if (this.#bindCalled) throw codedError('ERR_SOCKET_ALREADY_BOUND', 'Socket is already bound');
      const given = options ? options.address : typeof second === 'function' ? undefined : second as string | undefined;
      const address = given || (this.#udp6 ? '::' : '0.0.0.0');
      // As Node, whose look-up then refuses it: any other address than a string is the hostname's error.
      if (typeof address !== 'string') throw invalidArgType('hostname', 'of type string', address);
      this.#bindCalled = true;
      const port = validatePort(options ? options.port ?? 0 : first ?? 0);

      const start = (ip: string): void => {
        let fd: number;
        try {
          if (isIP(ip) !== (this.#udp6 ? 6 : 4)) {
            throw codedError('EINVAL', `bind EINVAL ${ip}`, Error, { errno: -osConstants.errno.EINVAL, syscall: 'bind', address: ip, port });
          }
          fd = boundSocket(stack, 'udp', ip, port,
            { reuseAddr: this.#reuseAddr, reusePort: this.#reusePort, ipv6Only: this.#ipv6Only }, 'bind');
        } catch (err) {
          process.nextTick(() => this.emit('error', err));
          return;
        }
        // bind({ fd }) emits 'listening' synchronously; Node's bind(port) emits it later, and
        // callers rely on that (they listen for it after calling bind): defer it likewise.
        this.#deferListening = true;
        try {
          super.bind({ fd }, cb);
          // Its uv_udp_open turned SO_REUSEADDR on: back to the socket's own option.
          setUdpReuseAddr(fd, this.#reuseAddr);
        } catch (err) {
          require('node:fs').closeSync(fd); // e.g. ERR_SOCKET_DGRAM_NOT_RUNNING after close()
          throw err;
        } finally {
          this.#deferListening = false;
        }
      };
      // A literal binds now, as Node's own bind() does before returning (send() relies on it).
      if (isIP(address)) start(address);
      else {
        lookup()(address, { family: this.#udp6 ? 6 : 4 }, (err, ip) => {
          if (err) this.emit('error', err);
          else start(ip as string);
        });
      }
      return this;
    }
  }

  return {
    Socket: Socket as unknown as typeof dgram.Socket,
    createSocket: (type, listener) => new Socket(type, listener),
  };
}
