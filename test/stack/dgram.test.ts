// stack.dgram: Node's dgram API with every UDP socket on the stack.
import * as dgram from 'node:dgram';
import { Host, once, useTestNetwork } from '../helpers/network';
import { until } from '../helpers/until';

const [a, b, c] = useTestNetwork(3);

const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) try { s.close(); } catch { /* already closed */ }
});
function socket(host: Host, type: dgram.SocketType | dgram.SocketOptions): dgram.Socket {
  const s = host.stack.dgram.createSocket(type);
  sockets.push(s);
  return s;
}

async function echoServer(
  host: Host, type: dgram.SocketType, address: string, port = 0,
): Promise<{ server: dgram.Socket; port: number }> {
  const server = socket(host, type);
  server.on('message', (msg, rinfo) => server.send(Buffer.concat([Buffer.from('echo:'), msg]), rinfo.port, rinfo.address));
  server.bind(port, address);
  await once(server, 'listening');
  return { server, port: server.address().port };
}

test('bind, send and receive, IPv4', async () => {
  const { server, port } = await echoServer(a, 'udp4', a.ip4, 5300);
  expect(server.address()).toEqual({ address: a.ip4, family: 'IPv4', port: 5300 });
  const client = socket(b, 'udp4');
  client.send('hello', port, a.ip4); // unbound: send binds an ephemeral port first
  const [msg, rinfo] = await once<Buffer & dgram.RemoteInfo>(client, 'message');
  expect(msg.toString()).toBe('echo:hello');
  expect(rinfo).toMatchObject({ address: a.ip4, port: 5300, family: 'IPv4', size: 10 });
  expect(client.address()).toMatchObject({ address: '0.0.0.0', family: 'IPv4' });
  expect(client.address().port).toBeGreaterThan(1024);
});

test('bind, send and receive, IPv6', async () => {
  const { port } = await echoServer(a, 'udp6', a.ip6);
  const client = socket(b, 'udp6');
  await new Promise<void>((r) => client.bind(0, b.ip6, r));
  client.send(Buffer.from('six'), port, a.ip6);
  const [msg, rinfo] = await once<Buffer & dgram.RemoteInfo>(client, 'message');
  expect(msg.toString()).toBe('echo:six');
  expect(rinfo).toMatchObject({ address: a.ip6, family: 'IPv6' });
});

test('connect(), remoteAddress() and send without an address', async () => {
  const { port } = await echoServer(a, 'udp4', a.ip4);
  const client = socket(b, 'udp4');
  client.connect(port, a.ip4);
  await once(client, 'connect');
  expect(client.remoteAddress()).toEqual({ address: a.ip4, family: 'IPv4', port });
  client.send('connected');
  const [msg] = await once<Buffer>(client, 'message');
  expect(msg.toString()).toBe('echo:connected');
  client.disconnect();
  expect(() => client.remoteAddress()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' }));
});

test('broadcast reaches every stack on the network', async () => {
  const got: string[] = [];
  for (const host of [a, c]) {
    const s = socket(host, { type: 'udp4', reuseAddr: true });
    s.on('message', (_m, r) => got.push(`${host.ip4} from ${r.address}`));
    s.bind(5301);
    await once(s, 'listening');
  }
  const sender = socket(b, 'udp4');
  await new Promise<void>((r) => sender.bind(0, r));
  sender.setBroadcast(true);
  sender.send('to all', 5301, '10.0.0.255');
  await until(() => `both broadcasts (${got.length} so far)`, () => got.length >= 2, { timeout: 1000, interval: 20 });
  expect(got.sort()).toEqual([`${a.ip4} from ${b.ip4}`, `${c.ip4} from ${b.ip4}`]);
});

test('multicast membership and TTL', async () => {
  const group = '239.1.2.3';
  const receiver = socket(a, { type: 'udp4', reuseAddr: true });
  receiver.bind(5302);
  await once(receiver, 'listening');
  receiver.addMembership(group, a.ip4);
  const sender = socket(b, 'udp4');
  await new Promise<void>((r) => sender.bind(0, b.ip4, r));
  sender.setMulticastTTL(2);
  sender.setMulticastInterface(b.ip4);
  sender.send('to the group', 5302, group);
  const [msg, rinfo] = await once<Buffer & dgram.RemoteInfo>(receiver, 'message');
  expect([msg.toString(), rinfo.address]).toEqual(['to the group', b.ip4]);
  receiver.dropMembership(group, a.ip4);
});

test('errors: EADDRINUSE, EADDRNOTAVAIL, bad port, double bind, wrong family', async () => {
  await echoServer(a, 'udp4', a.ip4, 5303);
  const clash = socket(a, 'udp4');
  clash.bind(5303, a.ip4);
  const [inUse] = await once<NodeJS.ErrnoException>(clash, 'error');
  expect(inUse).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', address: a.ip4, port: 5303 });

  const foreign = socket(a, 'udp4');
  foreign.bind(0, '10.9.9.9');
  const [notHere] = await once<NodeJS.ErrnoException>(foreign, 'error');
  expect(notHere).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind' });

  expect(() => socket(a, 'udp4').bind(70000)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }));
  const twice = socket(a, 'udp4');
  twice.bind(0);
  expect(() => twice.bind(0)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_ALREADY_BOUND' }));

  const v4 = socket(a, 'udp4');
  v4.bind(0, '::1');
  const [family] = await once<NodeJS.ErrnoException>(v4, 'error');
  expect(family).toMatchObject({ code: 'EINVAL', syscall: 'bind' });
});

test('many datagrams in both directions, none lost on a quiet network', async () => {
  const { port } = await echoServer(a, 'udp4', a.ip4);
  const client = socket(b, 'udp4');
  const seen = new Set<string>();
  client.on('message', (m) => seen.add(m.toString()));
  for (let i = 0; i < 200; i++) {
    client.send(`n${i}`, port, a.ip4);
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
  }
  await until(() => `200 echoes (${seen.size} so far)`, () => seen.size >= 200, { timeout: 2000, interval: 20 });
  expect(seen.size).toBe(200);
});
