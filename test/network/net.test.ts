// stack.net: Node's net API with every socket on the stack, against Node's own behaviour.
import { createHash } from 'node:crypto';
import * as dns from 'node:dns';
import * as net from 'node:net';
import { Stack } from '../../src';
import { vxvdeGroup } from '../helpers/netns';
import { Host, once, useTestNetwork } from '../helpers/network';
import { until } from '../helpers/until';

const [a, b] = useTestNetwork(2, (n) => [`10.0.0.1${n}/24`]);

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function serve(
  host: Host, handler: (s: net.Socket) => void = (s) => s.pipe(s), options: net.ServerOpts = {},
): net.Server {
  const server = host.stack.net.createServer(options, handler);
  servers.push(server);
  return server;
}

async function request(socket: net.Socket, payload: string): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (d) => chunks.push(d));
  socket.end(payload);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString();
}

test('listen(port, host) and connect(port, host), IPv4', async () => {
  const server = serve(a);
  server.listen(8080, a.ip4);
  await once(server, 'listening');
  expect(server.address()).toEqual({ address: a.ip4, family: 'IPv4', port: 8080 });
  const socket = b.stack.net.connect(8080, a.ip4);
  await once(socket, 'connect');
  expect(socket).toBeInstanceOf(net.Socket);
  expect(socket).toBeInstanceOf(b.stack.net.Socket);
  expect([socket.remoteAddress, socket.remotePort, socket.remoteFamily, socket.localAddress]).toEqual([a.ip4, 8080, 'IPv4', b.ip4]);
  expect(await request(socket, 'ping')).toBe('ping');
});

test('listen with a callback and an ephemeral port; connect with options and a callback', async () => {
  const server = serve(a);
  await new Promise<void>((r) => server.listen(0, a.ip4, r));
  const { port } = server.address() as net.AddressInfo;
  expect(port).toBeGreaterThan(1024);
  const socket = await new Promise<net.Socket>((resolve) => {
    const s: net.Socket = b.stack.net.createConnection({ port, host: a.ip4 }, () => resolve(s));
  });
  expect(await request(socket, 'x'.repeat(100000))).toHaveLength(100000);
});

test('IPv6 server and client', async () => {
  const server = serve(a);
  server.listen({ port: 8081, host: a.ip6 });
  await once(server, 'listening');
  expect(server.address()).toEqual({ address: a.ip6, family: 'IPv6', port: 8081 });
  const socket = b.stack.net.connect({ port: 8081, host: a.ip6 });
  await once(socket, 'connect');
  expect([socket.remoteAddress, socket.remoteFamily, socket.localAddress]).toEqual([a.ip6, 'IPv6', b.ip6]);
  expect(await request(socket, 'six')).toBe('six');
});

test('listen() with no host is dual-stack on "::"; ipv6Only refuses IPv4', async () => {
  const dual = serve(a);
  dual.listen(8082);
  await once(dual, 'listening');
  expect(dual.address()).toMatchObject({ address: '::', family: 'IPv6', port: 8082 });
  for (const host of [a.ip4, a.ip6]) {
    const s = b.stack.net.connect(8082, host);
    await once(s, 'connect');
    expect(await request(s, host)).toBe(host);
  }
  const only6 = serve(a);
  only6.listen({ port: 8083, host: '::', ipv6Only: true });
  await once(only6, 'listening');
  const refused = b.stack.net.connect(8083, a.ip4);
  const [err] = await once<NodeJS.ErrnoException>(refused, 'error');
  expect(err).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect', address: a.ip4, port: 8083 });
});

test('EADDRINUSE and EADDRNOTAVAIL are emitted as Node emits them', async () => {
  const first = serve(a);
  first.listen(8084, a.ip4);
  await once(first, 'listening');
  const second = serve(a);
  second.listen(8084, a.ip4);
  const [inUse] = await once<NodeJS.ErrnoException & { address: string; port: number }>(second, 'error');
  expect(inUse).toMatchObject({ code: 'EADDRINUSE', syscall: 'listen', address: a.ip4, port: 8084 });
  expect(inUse.message).toMatch(/^listen EADDRINUSE/);
  expect(second.listening).toBe(false);

  const elsewhere = serve(a);
  elsewhere.listen(8085, '10.0.0.99');
  const [notHere] = await once<NodeJS.ErrnoException>(elsewhere, 'error');
  expect(notHere).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'listen', address: '10.0.0.99' });
  expect(() => first.listen(9999)).toThrow(expect.objectContaining({ code: 'ERR_SERVER_ALREADY_LISTEN' }));
  expect(() => serve(a).listen(70000)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }));
});

test('the same port on two stacks does not clash: each stack has its own ports', async () => {
  const one = serve(a, (s) => s.end('a'));
  const two = serve(b, (s) => s.end('b'));
  one.listen(8086);
  two.listen(8086);
  await Promise.all([once(one, 'listening'), once(two, 'listening')]);
  expect(await request(b.stack.net.connect(8086, a.ip4), '')).toBe('a');
  expect(await request(a.stack.net.connect(8086, b.ip4), '')).toBe('b');
});

test('localAddress and localPort choose the client side', async () => {
  const seen: string[] = [];
  const server = serve(a, (s) => { seen.push(`${s.remoteAddress}:${s.remotePort}`); s.end(); });
  server.listen(8087, a.ip4);
  await once(server, 'listening');
  const s = b.stack.net.connect({ port: 8087, host: a.ip4, localAddress: '10.0.0.12', localPort: 40123 });
  await once(s, 'connect');
  expect([s.localAddress, s.localPort]).toEqual(['10.0.0.12', 40123]);
  await once(s, 'close');
  expect(seen).toEqual(['10.0.0.12:40123']);
});

test('ECONNREFUSED, and EHOSTUNREACH for an address nobody has', async () => {
  const refused = b.stack.net.connect(1, a.ip4);
  const [e1] = await once<NodeJS.ErrnoException>(refused, 'error');
  expect(e1).toMatchObject({ code: 'ECONNREFUSED', errno: -111, syscall: 'connect', address: a.ip4, port: 1 });
  const unreachable = b.stack.net.connect(80, '10.0.0.77');
  const [e2] = await once<NodeJS.ErrnoException>(unreachable, 'error', 15000);
  expect(e2).toMatchObject({ code: 'EHOSTUNREACH', syscall: 'connect', address: '10.0.0.77' });
}, 20000);

test('connect timeout option emits "timeout"; ENETUNREACH without a route', async () => {
  const s = b.stack.net.connect({ port: 80, host: '10.0.0.78', timeout: 200 });
  await once(s, 'timeout', 5000);
  s.destroy();
  const nowhere = b.stack.net.connect(80, '192.0.2.1');
  const [err] = await once<NodeJS.ErrnoException>(nowhere, 'error');
  expect(err).toMatchObject({ code: 'ENETUNREACH', address: '192.0.2.1' });
});

test('setNoDelay, setKeepAlive, ref/unref and half-close (allowHalfOpen)', async () => {
  const server = serve(a, (s) => {
    s.on('end', () => s.end('after your end')); // still writable after the peer's FIN
  }, { allowHalfOpen: true });
  server.listen(8088, a.ip4);
  await once(server, 'listening');
  expect(server.unref()).toBe(server);
  expect(server.ref()).toBe(server);
  const s = b.stack.net.connect({ port: 8088, host: a.ip4, allowHalfOpen: true });
  await once(s, 'connect');
  expect(s.setNoDelay(true)).toBe(s);
  expect(s.setKeepAlive(true, 1000)).toBe(s);
  expect(s.unref()).toBe(s);
  s.ref();
  const chunks: Buffer[] = [];
  s.on('data', (d) => chunks.push(d));
  s.end();
  await once(s, 'end');
  expect(Buffer.concat(chunks).toString()).toBe('after your end');
});

test('the family option picks the address family of a name', async () => {
  const server = serve(a, (s) => s.end(String(s.remoteAddress)));
  server.listen(8092);
  await once(server, 'listening');
  // localhost as the host's /etc/hosts has it (a stack starts from that file): IPv6 only if it says so.
  const v6 = await dns.promises.lookup('localhost', { family: 6 }).then(() => null, (e: NodeJS.ErrnoException) => e.code);
  const six = a.stack.net.connect({ port: 8092, host: 'localhost', family: 6 });
  if (v6 === null) expect(await request(six, '')).toBe('::1');
  else expect((await once<NodeJS.ErrnoException>(six, 'error'))[0].code).toBe(v6);
  expect(await request(a.stack.net.connect({ port: 8092, host: 'localhost', family: 4 }), '')).toBe('::ffff:127.0.0.1');
});

test('localhost and "" reach the stack\'s own lo, not the host', async () => {
  const server = serve(a, (s) => s.end('on lo'));
  server.listen(8089, '127.0.0.1');
  await once(server, 'listening');
  expect(await request(a.stack.net.connect(8089, '127.0.0.1'), '')).toBe('on lo');
  expect(await request(a.stack.net.connect(8089), '')).toBe('on lo'); // default host: localhost
  // The host's own loopback has no such server: the port belongs to the stack.
  const host = net.connect(8089, '127.0.0.1');
  const [err] = await once<NodeJS.ErrnoException>(host, 'error');
  expect(err.code).toBe('ECONNREFUSED');
});

test('a name whose first address refuses is tried at its next one, as Node does (autoSelectFamily)', async () => {
  // localhost as Debian 13 lists it: ::1 answers first (getaddrinfo's order), the server is on 127.0.0.1 only.
  const server = serve(a, (s) => s.end(`on the stack from ${s.remoteAddress}`));
  server.listen(8091, '127.0.0.1');
  await once(server, 'listening');
  a.stack.dns.hosts.add('both.test', '::1');
  a.stack.dns.hosts.add('both.test', '127.0.0.1');
  try {
    // Node itself, on the host's loopback, given the same two answers: it falls back to the second.
    const hostServer = net.createServer((s) => s.end('on the host')).listen(0, '127.0.0.1');
    await once(hostServer, 'listening');
    const answers = [{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }];
    const both = (_h: string, _o: unknown, cb: (e: null, a: typeof answers) => void) => cb(null, answers);
    const lookup = both as unknown as net.LookupFunction;
    const native = net.connect({ port: (hostServer.address() as net.AddressInfo).port, host: 'both.test', lookup });
    expect(await request(native, '')).toBe('on the host');
    hostServer.close();
    const socket = a.stack.net.connect(8091, 'both.test');
    expect(await request(socket, '')).toBe('on the stack from 127.0.0.1');
    expect(socket.autoSelectFamilyAttemptedAddresses).toEqual(['::1:8091', '127.0.0.1:8091']);
  } finally {
    a.stack.dns.hosts.delete('both.test');
    server.close();
  }
});

test('256 MiB through vxvde arrive with the same SHA-256', async () => {
  // Two stacks of their own on a vxvde network (multicast, kept inside this run's netns).
  const vnl = vxvdeGroup();
  const [x, y] = ['10.5.0.1', '10.5.0.2'].map((ip) => {
    const stack = new Stack('vdestack', vnl);
    stack.linkSetUpDown('vde0', true);
    stack.ipAddrAdd(ip, 24, 'vde0');
    return { stack, ip4: ip, ip6: '' };
  });
  try {
    await bulk(x, y);
  } finally {
    x.stack.close();
    y.stack.close();
  }
}, 120000);

async function bulk(a: Host, b: Host): Promise<void> {
  const total = 256 * 1024 * 1024;
  const block = Buffer.alloc(1024 * 1024);
  const sent = createHash('sha256');
  const received = createHash('sha256');
  let count = 0;
  const server = serve(a, (s) => {
    s.on('data', (d) => { received.update(d); count += d.length; });
    s.on('end', () => s.end(received.digest('hex')));
  });
  server.listen(8090, a.ip4);
  await once(server, 'listening');
  const s = b.stack.net.connect(8090, a.ip4);
  await once(s, 'connect');
  let reply = '';
  s.on('data', (d) => { reply += d; });
  for (let i = 0; i < total / block.length; i++) {
    for (let j = 0; j < block.length; j += 4) block.writeUInt32LE((i * 2654435761 + j) >>> 0, j);
    sent.update(block);
    if (!s.write(Buffer.from(block))) await once(s, 'drain', 30000);
  }
  s.end();
  await once(s, 'close', 60000);
  expect(count).toBe(total);
  expect(reply).toBe(sent.digest('hex'));
}

test('500 concurrent connections to one server are all served', async () => {
  let open = 0;
  let peak = 0;
  const server = serve(a, (s) => {
    open++;
    peak = Math.max(peak, open);
    s.on('close', () => open--);
    s.on('data', (d) => s.end(d));
  });
  server.listen({ port: 8091, host: a.ip4, backlog: 1024 });
  await once(server, 'listening');
  const clients = await Promise.all(Array.from({ length: 500 }, async () => {
    const s = b.stack.net.connect(8091, a.ip4);
    await once(s, 'connect', 20000);
    return s;
  }));
  // All 500 are connected at once before any is answered.
  await until(() => `500 connections open on the server (${open})`, () => open >= 500, { timeout: 5000, interval: 20 });
  expect(open).toBe(500);
  const answers = await Promise.all(clients.map((s, i) => request(s, `client ${i}`)));
  expect(answers).toEqual(clients.map((_, i) => `client ${i}`));
  expect(peak).toBe(500);
}, 60000);
