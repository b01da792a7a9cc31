// Stacks on real VDE networks talking TCP: vxvde (multicast, in this run's private netns), a hub and
// a switch hosted by one stack and joined by others with vde://, and slirp reaching this namespace's
// loopback at 10.0.2.2. Several stacks live in one process throughout.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from '../../src';
import { vxvdeGroup } from '../helpers/netns';
import { closeServer, connectFrom, echo, echoRoundTrip, listenOn } from '../helpers/tcp';

const stacks: Stack[] = [];
afterEach(() => {
  for (const s of stacks.splice(0)) s.close();
});

/** A stack on `vnl` with lo up and vde0 configured (config returns with IPv6 addresses past DAD). */
function host(vnl: string | string[], ...addrs: [string, number][]): Stack {
  const s = new Stack('vdestack', vnl);
  stacks.push(s);
  s.linkSetUpDown('lo', true);
  s.config(['eth', ...addrs.map(([addr, len]) => `ip=${addr}/${len}`)].join(','));
  return s;
}

async function expectEcho(server: Stack, client: Stack, address: string, size = 64 * 1024): Promise<void> {
  const family = net.isIPv6(address) ? 6 : 4;
  const { server: srv, port } = await listenOn(server, family, echo);
  try {
    const socket = await connectFrom(client, address, port);
    expect(socket.remoteAddress).toBe(address);
    const payload = randomBytes(size);
    const back = await echoRoundTrip(socket, payload);
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
  } finally {
    await closeServer(srv);
  }
}


test('two stacks talk TCP over vxvde, IPv4', async () => {
  const vnl = vxvdeGroup();
  const a = host(vnl, ['10.0.0.1', 24]);
  const b = host(vnl, ['10.0.0.2', 24]);
  await expectEcho(a, b, '10.0.0.1', 1024 * 1024);
});

test('two stacks talk TCP over vxvde, IPv6', async () => {
  const vnl = vxvdeGroup();
  const a = host(vnl, ['fd00:1::1', 64]);
  const b = host(vnl, ['fd00:1::2', 64]);
  await expectEcho(a, b, 'fd00:1::1');
});

test('routes reach the far side of a two-interface stack', async () => {
  const vnl1 = vxvdeGroup();
  let vnl2 = vxvdeGroup();
  while (vnl2 === vnl1) vnl2 = vxvdeGroup();
  const a = host(vnl1, ['10.1.0.1', 24]);
  const b = host(vnl2, ['10.2.0.1', 24]);
  const router = new Stack('vdestack', [vnl1, vnl2]);
  stacks.push(router);
  router.linkSetUpDown('vde0', true);
  router.linkSetUpDown('vde1', true);
  router.ipAddrAdd('10.1.0.254', 24, 'vde0');
  router.ipAddrAdd('10.2.0.254', 24, 'vde1');
  // Without a route, the router's address on the other network is unreachable from a.
  await expect(connectFrom(a, '10.2.0.254', 9)).rejects.toMatchObject({ code: 'ENETUNREACH' });
  // A network route on a and a default route on b: each reaches the router's far address
  // through its gateway (the router owns those addresses, so no forwarding is needed).
  a.ipRouteAdd('10.1.0.254', '10.2.0.0', 24);
  b.ipRouteAdd('10.2.0.254');
  expect(a.routes()).toContainEqual(expect.objectContaining({ cidr: '10.2.0.0/24', gateway: '10.1.0.254' }));
  expect(b.routes()).toContainEqual(expect.objectContaining({ cidr: 'default', gateway: '10.2.0.254' }));
  await expectEcho(router, a, '10.2.0.254');
  await expectEcho(router, b, '10.1.0.254');
  a.ipRouteDel('10.1.0.254', '10.2.0.0', 24);
  await expect(connectFrom(a, '10.2.0.254', 9)).rejects.toMatchObject({ code: 'ENETUNREACH' });
});

describe.each(['hub', 'switch'])('a %s node hosted by a stack', (kind) => {
  test('other stacks join it with vde:// and talk through it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `iothts-${kind}-`));
    try {
      const node = path.join(dir, 'node');
      const a = host(`${kind}://${node}`, ['10.3.0.1', 24]);
      expect(fs.existsSync(node)).toBe(true);
      const b = host(`vde://${node}`, ['10.3.0.2', 24]);
      const c = host(`vde://${node}`, ['10.3.0.3', 24]);
      await expectEcho(a, b, '10.3.0.1');
      await expectEcho(b, c, '10.3.0.2');
    } finally {
      for (const s of stacks.splice(0)) s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('a stack on slirp:// reaches a server on the host loopback at 10.0.2.2', async () => {
  const served: string[] = [];
  const server = net.createServer((s) => {
    served.push(s.remoteAddress ?? '');
    s.end('hello from the host side');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  try {
    const s = host('slirp://', ['10.0.2.15', 24]);
    s.ipRouteAdd('10.0.2.2');
    const socket = await connectFrom(s, '10.0.2.2', port);
    const reply = await echoRoundTrip(socket, Buffer.alloc(0));
    expect(reply.toString()).toBe('hello from the host side');
    expect(served).toEqual(['127.0.0.1']); // slirp's NAT: the host sees a loopback peer
  } finally {
    await closeServer(server);
  }
});

test('several stacks in one process, each serving on its own address', async () => {
  const vnl = vxvdeGroup();
  const servers = [1, 2, 3].map((n) => host(vnl, [`10.4.0.${n}`, 24]));
  const client = host(vnl, ['10.4.0.100', 24]);
  for (const [i, s] of servers.entries()) {
    const { server, port } = await listenOn(s, 4, (c) => c.end(`I am 10.4.0.${i + 1}`));
    try {
      const socket = await connectFrom(client, `10.4.0.${i + 1}`, port);
      expect((await echoRoundTrip(socket, Buffer.alloc(0))).toString()).toBe(`I am 10.4.0.${i + 1}`);
    } finally {
      await closeServer(server);
    }
  }
  expect(new Set(servers.map((s) => s.linkGetAddr('vde0'))).size).toBe(3);
});

test('a stack with no VNL has only lo, and lo carries TCP once up', async () => {
  const s = new Stack('vdestack');
  stacks.push(s);
  expect(s.ifNameIndex()).toEqual([{ index: 1, name: 'lo' }]);
  expect(s.links()[0].up).toBe(false); // down in a new namespace until brought up
  s.linkSetUpDown(1, true);
  await expectEcho(s, s, '127.0.0.1');
});
