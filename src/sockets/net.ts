// stack.net: the node:net surface with every TCP socket on one stack. The classes are real
// net.Server / net.Socket subclasses, so anything written for Node's (http, tls, ws...) takes them.
import * as net from 'node:net';
import { normalizeNetArgs, NetOptions } from './args';
import { adoptServerHandle, adoptSocketHandles, boundSocket } from './bind';
import { codedError, invalidArgType, stackClosed } from '../internal/errors';
import type { LookupFunction } from 'node:net';
import type { SocketSource } from './source';
import { validatePort } from '../internal/validators';

/**
 * `stack.net`: node:net with every TCP socket on the stack. Node's own signatures, written out so
 * that they say what the stack changes (and carry no comments of Node's that point elsewhere).
 */
export interface StackNet {
  /** A net.Socket subclass whose connect() opens a socket of the stack; names go through stack.dns. */
  Socket: typeof net.Socket;
  /** A net.Server subclass whose listen() binds a socket of the stack. */
  Server: typeof net.Server;
  /**
   * net.createServer() on the stack: `listen(port, host)` binds a stack socket (no host: `::`
   * dual-stack, or `0.0.0.0` where the stack has no IPv6); UNIX paths, `{ fd }` and handles go to
   * Node unchanged and stay on the host.
   */
  createServer(connectionListener?: (socket: net.Socket) => void): net.Server;
  createServer(options?: net.ServerOpts, connectionListener?: (socket: net.Socket) => void): net.Server;
  /**
   * net.connect() on the stack: a TCP connection from a stack socket, host names resolved by
   * stack.dns, each of their addresses tried in turn as Node does (autoSelectFamily, happy
   * eyeballs). A `path` is an IPC connection on the host, as in Node.
   */
  connect(options: net.NetConnectOpts, connectionListener?: () => void): net.Socket;
  connect(port: number, host?: string, connectionListener?: () => void): net.Socket;
  connect(path: string, connectionListener?: () => void): net.Socket;
  /** The same as connect(), as in Node. */
  createConnection(options: net.NetConnectOpts, connectionListener?: () => void): net.Socket;
  createConnection(port: number, host?: string, connectionListener?: () => void): net.Socket;
  createConnection(path: string, connectionListener?: () => void): net.Socket;
  /**
   * server.listen(...args) on this stack, for servers made elsewhere: http, https, http2, tls,
   * express. `stack.net.listen(http.createServer(app), 8080, '10.0.0.1')`.
   */
  listen<S extends net.Server>(
    server: S, port?: number, hostname?: string, backlog?: number, listeningListener?: () => void,
  ): S;
  listen<S extends net.Server>(server: S, port?: number, hostname?: string, listeningListener?: () => void): S;
  listen<S extends net.Server>(server: S, port?: number, listeningListener?: () => void): S;
  listen<S extends net.Server>(server: S, options: net.ListenOptions, listeningListener?: () => void): S;
  isIP: typeof net.isIP;
  isIPv4: typeof net.isIPv4;
  isIPv6: typeof net.isIPv6;
  SocketAddress: typeof net.SocketAddress;
  BlockList: typeof net.BlockList;
}

export function createStackNet(stack: SocketSource, lookup: () => LookupFunction): StackNet {
  class Socket extends net.Socket {
    // Host names go through the stack's resolver. Happy eyeballs (autoSelectFamily) is Node's: each
    // attempt's new handle goes through the `_handle` setter (adoptSocketHandles), onto the stack.
    override connect(...args: unknown[]): this {
      if (stack.closed) throw stackClosed('connect');
      const [options, cb] = normalizeNetArgs(args);
      // As Node: a truthy path is IPC.
      if (options.path) return super.connect(options as net.IpcSocketConnectOpts, cb ?? undefined);
      // Inheriting rather than spreading: a Buffer given as options would be copied byte by byte.
      const tcp = Object.assign(
        Object.create(options) as object, { lookup: options.lookup ?? lookup() },
      ) as net.TcpSocketConnectOpts;
      return cb ? super.connect(tcp, cb) : super.connect(tcp);
    }
  }

  const listening = new WeakSet<net.Server>();

  // listen([port[, host[, backlog]]][, cb]) and listen({ port, host, backlog, ipv6Only }[, cb])
  // bind a stack socket; handles, fds and UNIX paths go to Node as they are.
  function listen(server: net.Server, args: unknown[]): net.Server {
    const nodeListen = net.Server.prototype.listen as (...a: unknown[]) => net.Server;
    const [given, cb] = normalizeNetArgs(args);
    const options = (given._handle || given.handle || given) as NetOptions;
    if (options !== given || typeof options.fd === 'number' || options.path) {
      return nodeListen.apply(server, args);
    }
    if (stack.closed) throw stackClosed('listen');
    if (server.listening || listening.has(server)) {
      throw codedError('ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
    }
    const port = options.port === undefined || options.port === null ? 0 : validatePort(options.port, 'options.port');
    if (options.host && typeof options.host !== 'string') throw invalidArgType('hostname', 'of type string', options.host); // as Node's look-up
    const backlog = Number(options.backlog) || Number(args.length > 1 && args[1]) ||
      Number(args.length > 2 && args[2]) || undefined;
    if (cb) server.once('listening', cb);
    const ipv6Only = Boolean(options.ipv6Only);
    listening.add(server);

    const start = (address: string, fallback?: string): void => {
      let fd: number;
      try {
        fd = boundSocket(stack, 'tcp', address, port, { reuseAddr: true, ipv6Only }, 'listen');
      } catch (err) {
        // Like Node: with no host, '::' first and '0.0.0.0' where the stack has no IPv6.
        if (fallback && ['EAFNOSUPPORT', 'EADDRNOTAVAIL'].includes((err as NodeJS.ErrnoException).code ?? '')) {
          start(fallback);
          return;
        }
        listening.delete(server);
        process.nextTick(() => server.emit('error', err));
        return;
      }
      listening.delete(server);
      // exclusive: the fd is this process's own; a cluster primary could not open it.
      nodeListen.call(server, { fd, exclusive: true }, backlog);
      adoptServerHandle((server as unknown as { _handle: unknown })._handle, stack);
    };

    const host = options.host;
    if (!host) start('::', '0.0.0.0');
    else if (net.isIP(host)) start(host);
    else {
      lookup()(host, {}, (err, address) => {
        if (err) {
          listening.delete(server);
          server.emit('error', err);
        } else {
          start(address as string);
        }
      });
    }
    return server;
  }

  class Server extends net.Server {
    override listen(...args: unknown[]): this {
      return listen(this, args) as this;
    }
  }

  adoptSocketHandles(Socket, stack);

  function connect(...args: unknown[]): net.Socket {
    const [options, cb] = normalizeNetArgs(args);
    const socket = new Socket(options as net.SocketConstructorOpts);
    if (options.timeout) socket.setTimeout(options.timeout as number); // as Node: a bad value throws
    return cb
      ? socket.connect(options as net.TcpSocketConnectOpts, cb)
      : socket.connect(options as net.TcpSocketConnectOpts);
  }

  function createServer(...args: unknown[]): net.Server {
    return new Server(...(args as ConstructorParameters<typeof net.Server>));
  }

  return {
    Socket: Socket as typeof net.Socket,
    Server: Server as typeof net.Server,
    createServer: createServer as StackNet['createServer'],
    connect: connect as StackNet['connect'],
    createConnection: connect as StackNet['createConnection'],
    listen: ((server: net.Server, ...args: unknown[]) => {
      if (!(server instanceof net.Server)) throw invalidArgType('server', 'an instance of net.Server', server);
      return listen(server, args);
    }) as StackNet['listen'],
    isIP: net.isIP,
    isIPv4: net.isIPv4,
    isIPv6: net.isIPv6,
    SocketAddress: net.SocketAddress,
    BlockList: net.BlockList,
  };
}
