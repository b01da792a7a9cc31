// Issue 10, "never lose bytes": a program that writes and then exits (or closes its stack) must not
// lose what its stack's kernel still has to send. The sender is a child process on a hub that this
// process hosts; this process is the peer, and counts and hashes what arrives.
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from '../../src';

const fixture = path.join(__dirname, '..', 'fixtures', 'send-and-exit.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-linger-'));
let hub: Stack;
let server: net.Server;
let port: number;
let nextHost = 2;
const arrivals: ((s: net.Socket) => void)[] = [];
let unreachable = false; // the next sender's peer says "go", then its link goes down
let gone: Stack | undefined;

beforeAll(async () => {
  hub = new Stack('vdestack', `hub://${dir}/hub`);
  hub.linkSetUpDown('vde0', true);
  hub.ipAddrAdd('10.0.0.1', 24, 'vde0');
  server = hub.net.createServer((s) => arrivals.shift()?.(s));
  await new Promise<void>((resolve) => server.listen(0, '10.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  hub.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Transfer {
  complete: boolean; received: number; expected: number; sha: boolean; childMs: number;
  exitAfterFinishMs?: number; error?: string;
}

/** Runs the sender once; the transfer is complete when every byte arrived, hashes match and the FIN came. */
function transfer(how: 'natural' | 'process.exit', mib: number, env: NodeJS.ProcessEnv = {}): Promise<Transfer> {
  return new Promise((resolve) => {
    const hash = crypto.createHash('sha256');
    let received = 0;
    let expected: { sha256: string; bytes: number } | undefined;
    let ended = false;
    let error: string | undefined;
    let childExit: number | undefined;
    let lastData = Date.now();
    const began = Date.now();
    let socket: net.Socket | undefined;
    arrivals.push((s) => {
      socket = s;
      s.on('data', (d: Buffer) => { hash.update(d); received += d.length; lastData = Date.now(); });
      s.on('end', () => { ended = true; s.destroy(); check(); });
      s.on('error', (e) => { error = e.message; check(); });
    });
    let host = '10.0.0.1';
    let to = port;
    if (unreachable) {
      // A peer of its own whose link goes down after its "go": nothing the sender sends then arrives.
      const n = nextHost++;
      gone = member(n);
      host = `10.0.0.${n}`;
      const srv = gone.net.createServer((s) => {
        srv.close();
        socket = s;
        s.on('error', () => {});
        s.write('go', () => setTimeout(() => gone!.linkSetUpDown('vde0', false), 50));
      }).listen(7000, host);
      to = 7000;
    }
    const child = spawn(process.execPath, [fixture, `vde://${dir}/hub`, `10.0.0.${nextHost++}`, host, String(to), String(mib), unreachable ? 'after-go' : how],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    let exitAfterFinishMs: number | undefined;
    child.on('exit', () => {
      childExit = Date.now() - began;
      const lines = out.trim().split('\n').map((l) => JSON.parse(l));
      expected = lines[0];
      if (lines[1]?.finished) exitAfterFinishMs = Date.now() - lines[1].finished;
      check();
    });
    // After the sender is gone, a transfer that makes no progress for 3 s is lost for good.
    const watchdog = setInterval(check, 100);
    function check(): void {
      if (childExit === undefined) return;
      const stalled = Date.now() - lastData > 3000 && Date.now() - began > childExit + 3000;
      if (!ended && !error && !stalled) return;
      clearInterval(watchdog);
      socket?.destroy();
      gone?.close({ linger: 0 });
      gone = undefined;
      const sha = hash.digest('hex') === expected!.sha256;
      resolve({
        complete: ended && sha && received === expected!.bytes, received, expected: expected!.bytes, sha,
        childMs: childExit, exitAfterFinishMs, error,
      });
    }
  });
}

const RUNS = Number(process.env.LINGER_RUNS ?? 5);

test.each(['natural', 'process.exit'] as const)('a sender that ends and exits (%s) loses nothing', async (how) => {
  const results: Transfer[] = [];
  for (let i = 0; i < RUNS; i++) results.push(await transfer(how, 16));
  const lost = results.filter((r) => !r.complete);
  console.log(`${how}: ${results.length - lost.length}/${results.length} complete`, JSON.stringify(results));
  expect(lost).toEqual([]);
}, 300000);

/** A stack on the hub with a server whose connections pause at once (a peer that never reads). */
function member(n: number): Stack {
  const stack = new Stack('vdestack', `vde://${dir}/hub`);
  stack.linkSetUpDown('vde0', true);
  stack.ipAddrAdd(`10.0.0.${n}`, 24, 'vde0');
  return stack;
}

async function connectPair(
  sender: Stack, receiver: Stack, ip: string, onData?: (s: net.Socket) => void,
): Promise<{ client: net.Socket; accepted: Promise<net.Socket> }> {
  let accept!: (s: net.Socket) => void;
  const accepted = new Promise<net.Socket>((r) => { accept = r; });
  const srv = receiver.net.createServer((s) => { onData?.(s); accept(s); srv.close(); });
  await new Promise<void>((r) => srv.listen(0, ip, r));
  const client = sender.net.connect({ port: (srv.address() as net.AddressInfo).port, host: ip });
  await new Promise((r, j) => { client.once('connect', r); client.once('error', j); });
  return { client, accepted };
}

/** A peer in a child process (close() blocks this thread, so a peer here could not read meanwhile). */
function sink(n: number): Promise<{
  port: number; result: Promise<{ bytes: number; sha256?: string; error?: string } | null>; kill: () => void;
}> {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'fixtures', 'sink.js'), `vde://${dir}/hub`, `10.0.0.${n}`],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let gotPort!: (port: number) => void;
  let gotResult!: (r: { bytes: number; sha256?: string; error?: string } | null) => void;
  const port = new Promise<number>((r) => { gotPort = r; });
  const result = new Promise<{ bytes: number; sha256?: string; error?: string } | null>((r) => { gotResult = r; });
  child.stdout.on('data', (d) => {
    out += d;
    const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    if (lines[0]) gotPort(lines[0].port);
    if (lines[1]) gotResult(lines[1]);
  });
  child.on('exit', () => gotResult(null));
  return port.then((p) => ({ port: p, result, kill: () => child.kill('SIGKILL') }));
}

test('close() lets connections ended just before deliver everything, FIN included', async () => {
  for (let i = 0; i < RUNS; i++) {
    const n = nextHost++;
    const peer = await sink(n);
    const sender = member(nextHost++);
    const data = crypto.randomBytes(16 * 1048576);
    const client = sender.net.connect({ port: peer.port, host: `10.0.0.${n}` });
    client.on('error', () => {});
    client.end(data, () => sender.close()); // at the write's 'finish': most of it is still queued
    const timer = setTimeout(peer.kill, 15000);
    const got = await peer.result;
    clearTimeout(timer);
    client.destroy();
    expect(got?.bytes).toBe(data.length);
    expect(got?.sha256).toBe(crypto.createHash('sha256').update(data).digest('hex'));
  }
}, 300000);

test('a peer that is unreachable, or gone, holds close() for the bound and no longer', async () => {
  // Unreachable: its link goes down once connected; our data and FIN are never acknowledged.
  const sender = member(nextHost++);
  const receiver = member(nextHost++);
  const ip = receiver.interfaces().vde0!.find((a) => a.family === 'IPv4')!.address;
  const { client, accepted } = await connectPair(sender, receiver, ip);
  receiver.linkSetUpDown('vde0', false);
  await new Promise<void>((r) => client.end(Buffer.alloc(8192), r)); // fits in the send buffer
  let began = Date.now();
  sender.close({ linger: 300 });
  const held = Date.now() - began;
  expect(held).toBeGreaterThanOrEqual(290);
  expect(held).toBeLessThan(300 + 1500);
  client.destroy();
  (await accepted).destroy();
  receiver.close();

  // Gone: its stack was closed; our FIN is never acknowledged.
  const sender2 = member(nextHost++);
  const receiver2 = member(nextHost++);
  const ip2 = receiver2.interfaces().vde0!.find((a) => a.family === 'IPv4')!.address;
  const { client: client2, accepted: accepted2 } = await connectPair(sender2, receiver2, ip2);
  (await accepted2).destroy();
  receiver2.close({ linger: 0 });
  await new Promise<void>((r) => client2.end('bye', r));
  sender2.linger = 400;
  began = Date.now();
  sender2.close();
  const held2 = Date.now() - began;
  expect(held2).toBeGreaterThanOrEqual(390);
  expect(held2).toBeLessThan(400 + 1500);
  client2.destroy();
}, 60000);

test('a sender whose peer is unreachable exits after its bound (IOTHTS_LINGER)', async () => {
  unreachable = true; // the peer's link goes down 50 ms after its "go"; the sender writes 300 ms after it
  try {
    const slow = await transfer('natural', 0.01, { IOTHTS_LINGER: '700' });
    expect(slow.complete).toBe(false);
    // From the last write to the process's end: the bound, plus deleting the stack and exiting.
    expect(slow.exitAfterFinishMs).toBeGreaterThanOrEqual(690);
    expect(slow.exitAfterFinishMs).toBeLessThan(700 + 1500);
  } finally {
    unreachable = false;
  }
}, 60000);

test('closing a stack with nothing to send costs no wait', async () => {
  const a = member(nextHost++);
  const b = member(nextHost++);
  const ip = b.interfaces().vde0!.find((x) => x.family === 'IPv4')!.address;
  const { client, accepted } = await connectPair(a, b, ip);
  const peer = await accepted;
  await new Promise<void>((r) => { peer.on('end', () => peer.end()).resume(); client.on('close', () => r()); client.end('done'); client.resume(); });
  // Everything acknowledged (the connection is in TIME_WAIT): one look at the sockets, no wait.
  let began = process.hrtime.bigint();
  a.close();
  const withTcp = Number(process.hrtime.bigint() - began) / 1e6;
  b.close();
  const idle = member(nextHost++);
  began = process.hrtime.bigint();
  idle.close(); // never had a TCP socket: no look at all
  const noTcp = Number(process.hrtime.bigint() - began) / 1e6;
  expect(withTcp).toBeLessThan(250);
  expect(noTcp).toBeLessThan(250);
});

test('linger is checked: option, property, close() and IOTHTS_LINGER', () => {
  for (const bad of [-1, 1.5, 2 ** 31, NaN]) {
    expect(() => new Stack({ vnl: null, linger: bad })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  }
  expect(() => new Stack({ vnl: null, linger: '10' as unknown as number })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  const saved = process.env.IOTHTS_LINGER;
  try {
    process.env.IOTHTS_LINGER = 'soon';
    expect(() => new Stack({ vnl: null })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    process.env.IOTHTS_LINGER = '250';
    const s = new Stack({ vnl: null });
    expect(s.linger).toBe(250);
    const quick = new Stack({ vnl: null, linger: 0 });
    expect(quick.linger).toBe(0);
    quick.close();
    expect(() => { s.linger = -5; }).toThrow(RangeError);
    expect(() => s.close({ linger: -1 })).toThrow(RangeError);
    expect(() => s.close(5 as never)).toThrow(TypeError);
    s.close({ linger: 10 });
    expect(s.closed).toBe(true);
  } finally {
    if (saved === undefined) delete process.env.IOTHTS_LINGER; else process.env.IOTHTS_LINGER = saved;
  }
  delete process.env.IOTHTS_LINGER;
  const plain = new Stack({ vnl: null });
  expect(plain.linger).toBe(2000);
  plain.close();
});
