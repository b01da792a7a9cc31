// TCP over raw stack sockets (Stack#socketFd), with nothing but Node's own net module: a server on
// an fd of one stack, a client on an fd of another. The per-stack net API builds on the same path.
import * as net from 'node:net';
import type { Stack } from '../../src';

export async function listenOn(
  stack: Stack, family: 4 | 6, onConnection: (s: net.Socket) => void,
): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer(onConnection);
  // An unbound listening TCP socket gets an ephemeral port on every address of its stack.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd: stack.socketFd(family, 'tcp') }, resolve);
  });
  return { server, port: (server.address() as net.AddressInfo).port };
}

export function connectFrom(
  stack: Stack, host: string, port: number, family: 4 | 6 = net.isIPv6(host) ? 6 : 4,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = new net.Socket({ fd: stack.socketFd(family, 'tcp') });
    socket.setTimeout(10000, () => socket.destroy(Object.assign(new Error(`connect to ${host}:${port} timed out`), { code: 'ETIMEDOUT' })));
    socket.once('error', reject);
    socket.connect(port, host, () => {
      socket.setTimeout(0);
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** Sends `payload`, half-closes, and collects the echo until the peer closes. */
export function echoRoundTrip(socket: net.Socket, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.once('error', reject);
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.end(payload);
  });
}

export function echo(socket: net.Socket): void {
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
}

export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
