// Lifecycle at scale: 10,000 sockets (stack.net servers, clients and the connections they accept,
// stack.dgram sockets) opened and closed in batches, and 200 stacks created, used and closed, leave
// the process's descriptors and helper processes as they were. And closing a stack that still has
// sockets open does what the README's Lifecycle section says: no crash, the sockets stay valid
// descriptors that reach no network any more, and the stack refuses new ones.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as dgram from 'node:dgram';
import type * as net from 'node:net';
import { Stack } from '../../src';
import { once } from '../helpers/network';
import { childrenOf, openFds } from '../helpers/procs';
import { until } from '../helpers/until';

/** Waits (bounded) until the descriptor count is back to `fds` at most: closing takes loop turns. */
async function fdsBackTo(fds: number, ms = 3000): Promise<number> {
  // A count still above after `ms` is the caller's to report (its expectation shows both numbers).
  await until('descriptors back to baseline', () => openFds() <= fds, { timeout: ms, interval: 20 }).catch(() => undefined);
  return openFds();
}

test('10,000 sockets opened and closed in batches: descriptors and processes back to baseline', async () => {
  const stack = new Stack('vdestack');
  stack.linkSetUpDown('lo', true);
  // The process-wide poller of udp6 receiving (addon/udp_receiver.cc) holds one descriptor for the
  // process's life from the first udp6 socket on: made here, before the baseline, so that it counts
  // whatever ran before in this jest worker.
  const warm = stack.dgram.createSocket('udp6');
  await new Promise<void>((resolve) => warm.bind(0, '::1', resolve));
  await new Promise<void>((resolve) => warm.close(resolve));
  await new Promise((r) => setTimeout(r, 200)); // (jest and the new stack settle their own descriptors)
  const fds = openFds();
  const children = childrenOf(process.pid).length;
  let opened = 0;
  let peak = 0;
  // Per batch: 10 servers, 30 clients connecting to them (30 accepted connections), 30 UDP sockets
  // each sending a datagram to the next: 100 sockets.
  for (let batch = 0; batch < 100; batch++) {
    const servers: net.Server[] = [];
    const accepted: net.Socket[] = [];
    for (let i = 0; i < 10; i++) {
      const server = stack.net.createServer((s) => { accepted.push(s); s.on('error', () => {}); });
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
      servers.push(server);
    }
    const clients = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      new Promise<net.Socket>((resolve, reject) => {
        const { port } = servers[i % 10].address() as net.AddressInfo;
        const c = stack.net.connect(port, '127.0.0.1', () => resolve(c)).once('error', reject);
      })));
    const udp = await Promise.all(Array.from({ length: 30 }, () => new Promise<dgram.Socket>((resolve, reject) => {
      const u = stack.dgram.createSocket(batch % 2 ? 'udp6' : 'udp4');
      u.once('error', reject).bind(0, batch % 2 ? '::1' : '127.0.0.1', () => resolve(u));
    })));
    await Promise.all(udp.map((u, i) => new Promise<void>((resolve, reject) => {
      const to = udp[(i + 1) % udp.length].address();
      u.send('x', to.port, to.address, (err) => (err ? reject(err) : resolve()));
    })));
    await until(() => `${clients.length} connections accepted (${accepted.length})`, () => accepted.length >= clients.length, { timeout: 10000, interval: 5 });
    opened += servers.length + clients.length + accepted.length + udp.length;
    peak = Math.max(peak, openFds() - fds);
    for (const c of clients) c.destroy();
    for (const s of accepted) s.destroy();
    for (const u of udp) u.close();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
  console.log(`lifecycle-scale: ${opened} sockets opened and closed, at most ${peak} descriptors open at once`);
  expect(opened).toBe(10000);
  expect(peak).toBeGreaterThanOrEqual(80); // they were really open at the same time, a batch at a time
  expect(await fdsBackTo(fds)).toBeLessThanOrEqual(fds);
  expect(childrenOf(process.pid)).toHaveLength(children);
  stack.close();
}, 120000);

test('200 stacks created, used and closed: descriptors and helper processes back to baseline', async () => {
  const fds = openFds();
  const children = childrenOf(process.pid).length;
  let most = 0;
  for (let round = 0; round < 20; round++) {
    // Ten alive at a time, each with a listening server, a connection and a UDP socket open.
    const stacks = Array.from({ length: 10 }, () => new Stack('vdestack', 'null://'));
    most = Math.max(most, childrenOf(process.pid).length - children);
    for (const [i, s] of stacks.entries()) {
      s.linkSetUpDown('lo', true);
      s.ipAddrAdd(`10.0.${round}.${i + 1}`, 24, 'lo');
    }
    const servers = await Promise.all(stacks.map((s) => new Promise<net.Server>((resolve) => {
      const server = s.net.createServer((c) => c.destroy());
      server.listen(0, '127.0.0.1', () => resolve(server));
    })));
    const clients = await Promise.all(stacks.map((s, i) => new Promise<net.Socket>((resolve, reject) => {
      const c = s.net.connect((servers[i].address() as net.AddressInfo).port, '127.0.0.1', () => resolve(c)).once('error', reject);
    })));
    const udp = stacks.map((s) => s.dgram.createSocket('udp4').bind(0, '127.0.0.1'));
    for (const c of clients) c.destroy();
    for (const u of udp) u.close();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    for (const s of stacks) s.close();
  }
  console.log(`lifecycle-scale: 200 stacks created and closed, ${most} helper processes alive at once`);
  expect(most).toBe(10); // one helper per stack, really running
  expect(await fdsBackTo(fds)).toBe(fds);
  expect(childrenOf(process.pid)).toHaveLength(children);
}, 120000);

describe('closing a stack that still has sockets open', () => {
  let dir: string;
  let a: Stack;
  let b: Stack;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-closeopen-'));
    b = new Stack('vdestack', `hub://${dir}/hub`);
    a = new Stack('vdestack', `vde://${dir}/hub`);
    for (const [s, ip] of [[a, '10.0.0.1'], [b, '10.0.0.2']] as const) {
      s.linkSetUpDown('vde0', true);
      s.ipAddrAdd(ip, 24, 'vde0');
    }
  });
  afterAll(() => {
    a?.close();
    b?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('no crash; open sockets stay valid but reach nothing; new ones are refused; closing them frees everything', async () => {
    const fds = openFds();
    // On B: a TCP server and a UDP socket. On A: a connection to it, a server of A's own, a UDP socket.
    const received: string[] = [];
    const acceptedB: net.Socket[] = [];
    const serverB = b.net.createServer((s) => acceptedB.push(s.on('data', (d) => received.push(`tcp ${d}`)).on('error', () => {})));
    await new Promise<void>((r) => serverB.listen(7, '10.0.0.2', r));
    const udpB = b.dgram.createSocket('udp4').on('message', (m) => received.push(`udp ${m}`));
    await new Promise<void>((r) => udpB.bind(9, '10.0.0.2', r));
    const client = a.net.connect(7, '10.0.0.2');
    await once(client, 'connect');
    const serverA = a.net.createServer((s) => s.on('error', () => {}));
    await new Promise<void>((r) => serverA.listen(8, '10.0.0.1', r));
    const udpA = a.dgram.createSocket('udp4');
    await new Promise<void>((r) => udpA.bind(0, '10.0.0.1', r));
    client.write('before');
    udpA.send('before', 9, '10.0.0.2');
    await until(() => `both 'before' messages (${received.join(', ')})`, () => received.length >= 2, { timeout: 2000, interval: 20 });
    expect(received.sort()).toEqual(['tcp before', 'udp before']);

    a.dns.setServers(['10.0.0.2']);
    const errors: unknown[] = [];
    for (const e of [client, serverA, udpA]) e.on('error', (err) => errors.push(err));
    const began = Date.now();
    a.close(); // with all three still open
    expect(Date.now() - began).toBeLessThan(2500); // README: close() never hangs (2 s bound on the helper)
    expect(a.closed).toBe(true);

    // The descriptors are still valid: Node's handles on them work, and nothing is emitted.
    expect(client.destroyed).toBe(false);
    expect(serverA.listening).toBe(true);
    expect(typeof udpA.address().port).toBe('number');
    expect(() => client.write('after')).not.toThrow();
    await new Promise<void>((resolve, reject) => udpA.send('after', 9, '10.0.0.2', (err) => {
      // The send itself may succeed (the kernel accepts it) or fail with an errno code: never a crash.
      if (err && !/^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code ?? '')) reject(err); else resolve();
    }));
    // ... but they reach no network any more.
    await new Promise((r) => setTimeout(r, 1000));
    expect(received.sort()).toEqual(['tcp before', 'udp before']);
    expect(errors).toEqual([]);

    // New sockets are refused with ERR_IOTH_STACK_CLOSED.
    const closed = expect.objectContaining({ code: 'ERR_IOTH_STACK_CLOSED' });
    expect(() => a.net.connect(7, '10.0.0.2')).toThrow(closed);
    expect(() => a.net.createServer().listen(0)).toThrow(closed);
    expect(() => a.dgram.createSocket('udp4')).toThrow(closed);
    expect(() => a.socketFd(4, 'tcp')).toThrow(closed);
    await expect(a.dns.promises.resolve4('x.test')).rejects.toMatchObject({ code: 'ERR_IOTH_STACK_CLOSED' });

    // Closing them afterwards is clean, and gives every descriptor back.
    client.destroy();
    udpA.close();
    await new Promise((r) => serverA.close(r));
    udpB.close();
    // B never hears of A's end (no FIN can cross): its side of the connection is B's to end.
    expect(acceptedB).toHaveLength(1);
    expect(acceptedB[0].destroyed).toBe(false);
    acceptedB[0].destroy();
    await new Promise((r) => serverB.close(r));
    expect(await fdsBackTo(fds)).toBeLessThanOrEqual(fds);
  }, 30000);
});
