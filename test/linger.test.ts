// Issue 10, "never lose bytes": a program that writes and then exits (or closes its stack) must not
// lose what its stack's kernel still has to send. The sender is a child process on a hub that this
// process hosts; this process is the peer, and counts and hashes what arrives.
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from '../src';
import { assertPrivateNetns } from './helpers/netns';

beforeAll(assertPrivateNetns);

const fixture = path.join(__dirname, 'fixtures', 'send-and-exit.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-linger-'));
let hub: Stack;
let server: net.Server;
let port: number;
let nextHost = 2;
const arrivals: ((s: net.Socket) => void)[] = [];

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

interface Transfer { complete: boolean; received: number; expected: number; sha: boolean; childMs: number; error?: string }

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
    const child = spawn(process.execPath, [fixture, `vde://${dir}/hub`, `10.0.0.${nextHost++}`, '10.0.0.1', String(port), String(mib), how],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('exit', () => { childExit = Date.now() - began; expected = JSON.parse(out); check(); });
    // After the sender is gone, a transfer that makes no progress for 3 s is lost for good.
    const watchdog = setInterval(check, 100);
    function check(): void {
      if (childExit === undefined) return;
      const stalled = Date.now() - lastData > 3000 && Date.now() - began > childExit + 3000;
      if (!ended && !error && !stalled) return;
      clearInterval(watchdog);
      socket?.destroy();
      const sha = hash.digest('hex') === expected!.sha256;
      resolve({ complete: ended && sha && received === expected!.bytes, received, expected: expected!.bytes, sha, childMs: childExit, error });
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
