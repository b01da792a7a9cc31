// vdebridge, iothts's own libioth plugin (addon/vdebridge/): the same model as vdestack, its own
// helper and bridge. Checked against libioth's vdestack on one network (a hub the vdebridge helper
// hosts, and vxvde), for data integrity both ways, the helper's end when its process is killed, a
// fast close() that leaves nothing, the last datagram before close(), and refused input.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from '../../src';
import { vxvdeGroup } from '../helpers/netns';
import { once } from '../helpers/network';
import { childrenOf, describeProcesses, isAlive, openFds, waitGone } from '../helpers/procs';
import { until } from '../helpers/until';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Pair { bridge: Stack; stack: Stack; close(): void }

/** A vdebridge stack (10.0.0.1, fd00::1) and a vdestack one (.2, ::2) on one network. */
async function pair(kind: 'hub' | 'vxvde'): Promise<Pair> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-vdebridge-'));
  const group = vxvdeGroup();
  const bridge = new Stack('vdebridge', kind === 'hub' ? `hub://${dir}/hub` : group);
  const stack = new Stack('vdestack', kind === 'hub' ? `vde://${dir}/hub` : group);
  await Promise.all([bridge.configAsync('eth,ip=10.0.0.1/24,ip=fd00::1/64'), stack.configAsync('eth,ip=10.0.0.2/24,ip=fd00::2/64')]);
  return {
    bridge, stack,
    close: () => { stack.close(); bridge.close(); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

/** Sends `payload` from `client` to an echo server on `server` and returns what came back. */
async function echoed(server: Stack, client: Stack, host: string, payload: Buffer): Promise<Buffer> {
  const srv = server.net.createServer((s) => s.pipe(s));
  srv.listen(0, host);
  await once(srv, 'listening');
  try {
    const socket = client.net.connect((srv.address() as net.AddressInfo).port, host);
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.end(payload);
    await once(socket, 'close', 25000);
    return Buffer.concat(chunks);
  } finally {
    srv.close();
  }
}

async function udpBothWays(p: Pair, family: 4 | 6): Promise<string[]> {
  const [ipA, ipB] = family === 4 ? ['10.0.0.1', '10.0.0.2'] : ['fd00::1', 'fd00::2'];
  const a = p.bridge.dgram.createSocket(`udp${family}`);
  const b = p.stack.dgram.createSocket(`udp${family}`);
  try {
    a.bind(0, ipA);
    b.bind(0, ipB);
    await Promise.all([once(a, 'listening'), once(b, 'listening')]);
    const atB = once<Buffer>(b, 'message');
    a.send(`to vdestack over IPv${family}`, b.address().port, ipB);
    const atA = once<Buffer>(a, 'message');
    const [fromA] = await atB;
    b.send(`to vdebridge over IPv${family}`, a.address().port, ipA);
    const [fromB] = await atA;
    return [fromA.toString(), fromB.toString()];
  } finally {
    a.close();
    b.close();
  }
}

describe.each(['hub', 'vxvde'] as const)('vdebridge and vdestack on %s', (kind) => {
  let p: Pair;
  beforeAll(async () => { p = await pair(kind); });
  afterAll(() => p?.close());

  test('both make their sockets the fastest way this process may', () => {
    expect(p.bridge.socketMode).toBe(p.stack.socketMode);
  });

  test('TCP: 16 MiB each way, SHA-256 equal (IPv4, server on vdestack)', async () => {
    const payload = randomBytes(16 << 20);
    const back = await echoed(p.stack, p.bridge, '10.0.0.2', payload);
    expect(back.length).toBe(payload.length);
    expect(sha256(back)).toBe(sha256(payload));
  });

  test('TCP: 4 MiB each way, SHA-256 equal (IPv6, server on vdebridge)', async () => {
    const payload = randomBytes(4 << 20);
    const back = await echoed(p.bridge, p.stack, 'fd00::1', payload);
    expect(sha256(back)).toBe(sha256(payload));
  });

  test.each([4, 6] as const)('UDP both ways (IPv%d)', async (family) => {
    expect(await udpBothWays(p, family)).toEqual([`to vdestack over IPv${family}`, `to vdebridge over IPv${family}`]);
  });
});

test('without CAP_SYS_ADMIN the helper makes the sockets and passes them over (SCM_RIGHTS)', () => {
  // setns needs CAP_SYS_ADMIN in the caller's user namespace: dropped from the bounding set, an
  // exec'd root lacks it as a plain user does; the helper still gets it in its own namespace.
  const script = `
    const fs = require('node:fs');
    const { Stack } = require('iothts');
    const group = ${JSON.stringify(vxvdeGroup())};
    const a = new Stack('vdebridge', group);
    const b = new Stack('vdebridge', group);
    a.config('eth,ip=10.0.0.1/24');
    b.config('eth,ip=10.0.0.2/24');
    const srv = a.net.createServer((s) => s.end('over ' + a.socketMode));
    srv.listen(80, '10.0.0.1', () => {
      const c = b.net.connect(80, '10.0.0.1');
      let got = '';
      c.on('data', (d) => { got += d; });
      c.on('close', () => {
        const fds = fs.readdirSync('/proc/self/fd').length;
        for (let i = 0; i < 50; i++) fs.closeSync(b.socketFd(4, i % 2 ? 'udp' : 'tcp'));
        const leaked = fs.readdirSync('/proc/self/fd').length - fds;
        srv.close();
        console.log(JSON.stringify({ modes: [a.socketMode, b.socketMode], got, leaked }));
        a.close();
        b.close();
      });
    });`;
  const out = JSON.parse(execFileSync('setpriv', ['--bounding-set=-sys_admin', '--inh-caps=-sys_admin', process.execPath, '-e', script], {
    cwd: path.resolve(__dirname, '..', '..'), encoding: 'utf8', timeout: 20000,
  }));
  expect(out).toEqual({ modes: ['helper', 'helper'], got: 'over helper', leaked: 0 });
});

describe('the helper', () => {
  const group = vxvdeGroup();
  let peer: Stack;
  beforeAll(async () => {
    peer = new Stack('vdestack', group);
    await peer.configAsync('eth,ip=10.0.0.2/24');
  });
  afterAll(() => peer?.close());

  test('ends within 1 s of its process\'s SIGKILL, after the peer got the reset (3 kills)', async () => {
    const fixture = path.join(__dirname, '..', 'fixtures', 'vdebridge-peer.js');
    const server = peer.net.createServer();
    server.listen(0, '10.0.0.2');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    try {
      for (let i = 0; i < 3; i++) {
        const accepted = once<net.Socket>(server, 'connection', 15000);
        const child = spawn(process.execPath, [fixture, group, `10.0.0.${10 + i}`, '10.0.0.2', String(port)],
          { stdio: ['ignore', 'pipe', 'inherit'] });
        const exited = once(child, 'exit', 15000);
        const [line] = await once<Buffer>(child.stdout!, 'data', 15000);
        const info = JSON.parse(line.toString()) as { pid: number; helpers: number[] };
        expect(info.helpers).toHaveLength(1);
        const [conn] = await accepted;
        let killedAt = 0;
        const ended = new Promise<{ code?: string; ms: number }>((resolve) => {
          conn.once('error', (e: NodeJS.ErrnoException) => resolve({ code: e.code, ms: Date.now() - killedAt }));
          conn.once('end', () => resolve({ code: 'FIN', ms: Date.now() - killedAt }));
        });
        // What the peer sends stays unread in the process's socket: its close must be a reset.
        conn.write(Buffer.alloc(1 << 20)); // more than Node reads ahead (its highWaterMark)
        await new Promise((r) => setTimeout(r, 100));
        killedAt = Date.now();
        child.kill('SIGKILL');
        await exited;
        expect(await waitGone(info.helpers, 1000)).toBeLessThan(1000);
        const end = await ended;
        expect(killedAt).toBeGreaterThan(0);
        expect(end.code).toBe('ECONNRESET');
        expect(end.ms).toBeLessThan(1000);
        conn.destroy();
      }
    } finally {
      server.close();
    }
  });

  test('ends with its process even when a vdestack helper shares the process\'s descriptors', async () => {
    // vdestack's helper is a CLONE_FILES clone: it keeps the process's descriptor table, and so the
    // command socket's other end, open until its own next kill(parent, 0), up to 10 s later.
    const fixture = path.join(__dirname, '..', 'fixtures', 'vdebridge-peer.js');
    // The process's own sockets stay open in that shared table too, so its peer hears no end:
    // the connection is let go of here.
    const conns: net.Socket[] = [];
    const server = peer.net.createServer((s) => { conns.push(s); s.on('error', () => s.destroy()); });
    server.listen(0, '10.0.0.2');
    await once(server, 'listening');
    let other: number[] = [];
    try {
      const child = spawn(process.execPath, [fixture, group, '10.0.0.30', '10.0.0.2', String((server.address() as net.AddressInfo).port), 'mixed'],
        { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = once(child, 'exit', 15000);
      const [line] = await once<Buffer>(child.stdout!, 'data', 15000);
      const info = JSON.parse(line.toString()) as { helpers: number[]; other: number[] };
      const { helpers } = info;
      other = info.other;
      expect(other).toHaveLength(1);
      child.kill('SIGKILL');
      await exited;
      expect(await waitGone(helpers, 1000)).toBeLessThan(1000);
    } finally {
      conns.forEach((c) => c.destroy());
      server.close();
      for (const pid of other) try { process.kill(pid, 'SIGKILL'); } catch { /* ended at its own pace */ }
    }
  });

  test('what the killed process had written still reaches the peer, then its FIN', async () => {
    // A host's kernel delivers what a killed process wrote. Here the stack's kernel can only while
    // the helper bridges: it goes on for a bounded while after its process's end (DRAIN_MS).
    const fixture = path.join(__dirname, '..', 'fixtures', 'vdebridge-peer.js');
    const server = peer.net.createServer();
    server.listen(0, '10.0.0.2');
    await once(server, 'listening');
    let conn: net.Socket | undefined;
    try {
      const accepted = once<net.Socket>(server, 'connection', 15000);
      const child = spawn(process.execPath, [fixture, group, '10.0.0.20', '10.0.0.2', String((server.address() as net.AddressInfo).port), 'write'],
        { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = once(child, 'exit', 15000);
      [conn] = await accepted;
      conn.pause(); // the process's data backs up in its own kernel's send queue
      const chunks: Buffer[] = [];
      conn.on('data', (d) => chunks.push(d));
      const [line] = await once<Buffer>(child.stdout!, 'data', 15000);
      const { helpers } = JSON.parse(line.toString()) as { helpers: number[] };
      await new Promise((r) => setTimeout(r, 300));
      const ended = once(conn, 'end', 2000);
      child.kill('SIGKILL');
      conn.resume();
      await exited;
      await ended;
      const got = Buffer.concat(chunks);
      expect(got.length).toBeGreaterThan(0);
      expect(got.equals(Buffer.from(Array.from({ length: got.length }, (_, i) => i % 251)))).toBe(true);
      expect(await waitGone(helpers, 1000)).toBeLessThan(1000);
    } finally {
      conn?.destroy(); // a failure leaves it open: it must not keep jest waiting
      server.close();
    }
  });

  test('close() returns at once and leaves no process or descriptor', async () => {
    new Stack('vdebridge', group).close(); // the first stack opens what the addon keeps (its thread's namespace)
    const fds = openFds();
    const children = childrenOf(process.pid);
    const helpers: number[] = [];
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const stack = new Stack('vdebridge', group);
      helpers.push(...childrenOf(process.pid).filter((c) => !children.includes(c) && !helpers.includes(c)));
      const start = process.hrtime.bigint();
      stack.close();
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    expect(helpers).toHaveLength(5);
    expect(Math.max(...times)).toBeLessThan(250);
    expect(await waitGone(helpers, 1000)).toBeLessThan(1000);
    expect(openFds()).toBe(fds);
  });

  test('a datagram sent just before close() arrives', async () => {
    const receiver = peer.dgram.createSocket('udp4');
    receiver.bind(0, '10.0.0.2');
    await once(receiver, 'listening');
    const got: string[] = [];
    receiver.on('message', (m) => got.push(m.toString()));
    try {
      const stack = new Stack('vdebridge', group);
      stack.config('eth,ip=10.0.0.5/24');
      const sender = stack.dgram.createSocket('udp4');
      const port = receiver.address().port;
      sender.send('first', port, '10.0.0.2'); // resolves the peer's MAC address
      await until('the first datagram', () => got.includes('first'), { timeout: 5000 });
      await new Promise<void>((resolve) => sender.send('last', port, '10.0.0.2', () => {
        sender.close();
        stack.close();
        resolve();
      }));
      await until('the last datagram', () => got.includes('last'), { timeout: 2000 });
    } finally {
      receiver.close();
    }
  });
});

describe('refused input', () => {
  function refusal(...args: ConstructorParameters<typeof Stack>): { code: string; message: string } {
    try {
      new Stack(...args).close();
    } catch (e) {
      return { code: (e as NodeJS.ErrnoException).code!, message: (e as Error).message };
    }
    throw new Error('the stack was made');
  }

  test('each with a clear error; no process or descriptor left behind', () => {
    const cases = (): Array<[ConstructorParameters<typeof Stack>, string, RegExp]> => [
      [['vdebridge', 'nosuch://x'], 'EPROTONOSUPPORT', /unknown VNL module/],
      [['vdebridge', Array(33).fill('null://')], 'E2BIG', /at most 32 VNLs per stack \(33 given\)/],
      [[{ plugin: 'vdebridge', pluginOptions: 'fast' }], 'EINVAL', /takes no options \("fast" given\)/],
      [['vdebridge', 'sixteen-chars-xx:null://'], 'EINVAL', /interface name .* 1 to 15 characters: "sixteen-chars-xx:null:\/\/"/],
      [['vdebridge', ['a:null://', 'a:null://']], 'EBUSY', /same interface a/],
      [['vdebridge', 'vde:///nonexistent/switch'], 'ENOENT', /vde:\/\/\/nonexistent\/switch/],
    ];
    for (const [args] of cases()) refusal(...args); // a first round: what Node opens once for errors
    const fds = openFds();
    const children = childrenOf(process.pid);
    for (const [args, code, message] of cases()) {
      const e = refusal(...args);
      expect(e.code).toBe(code);
      expect(e.message).toMatch(message);
      expect(e.message).toContain('plugin "vdebridge"');
    }
    expect(childrenOf(process.pid).filter((c) => !children.includes(c))).toEqual([]);
    expect(openFds()).toBe(fds);
  });

  test('"name:vnl" names the interface, as vdestack does', () => {
    const stack = new Stack('vdebridge', ['eth7:null://', 'null://']);
    try {
      expect(stack.links().map((l) => l.name)).toEqual(['lo', 'eth7', 'vde1']);
    } finally {
      stack.close();
    }
  });
});

test('no helper is left over by this file', async () => {
  await until(() => `children gone (left: ${describeProcesses(childrenOf(process.pid))})`,
    () => childrenOf(process.pid).filter(isAlive).length === 0, { timeout: 2000 });
});
