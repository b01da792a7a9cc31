// Issue 16, item 11: the linger at exit (issue 10) waits for a peer to acknowledge what a stack
// still has to send; when that peer is a socket of the same process (the same stack, or another
// stack of it deleted in the same exit), it dies with the process and there is nothing to wait for.
// A program with unread data both ways then exits without the wait; a peer in another process is
// still waited for. The exit is timed from the program's last line to its end.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from '../../src';

const fixture = path.join(__dirname, '..', 'fixtures', 'unread-and-exit.js');
const root = path.resolve(__dirname, '..', '..');

/** Runs the program; resolves with its report and the ms from its "exiting" line to its exit. */
type Exit = { queued: boolean[]; exitMs: number; code: number | null };
function exitTime(args: string[], env: NodeJS.ProcessEnv): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let at = 0;
    child.stdout.on('data', (d) => {
      out += d;
      if (!at && out.includes('\n')) at = performance.now();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!at) return reject(new Error(`the program ended before its report (${code}): ${out}`));
      resolve({ ...(JSON.parse(out) as { queued: boolean[] }), exitMs: performance.now() - at, code });
    });
  });
}

// A bound far above what an exit without waiting takes, so that a wait cannot hide in the margin.
const LINGER = 10000;

test('a server and its clients on one stack (127.0.0.1 and its own address), unread both ways: no wait at exit', async () => {
  const r = await exitTime(['one-stack'], { IOTHTS_LINGER: String(LINGER) });
  expect(r.queued).toEqual([true, true, true, true]); // every end still had bytes to send
  expect(r.code).toBe(0);
  console.log(`exit: ${Math.round(r.exitMs)} ms`);
  expect(r.exitMs).toBeLessThan(1500);
});

test('a client and its server on two stacks of one process, over its hub, unread both ways: no wait at exit', async () => {
  const r = await exitTime(['two-stacks'], { IOTHTS_LINGER: String(LINGER) });
  expect(r.queued).toEqual([true, true]);
  expect(r.code).toBe(0);
  console.log(`exit: ${Math.round(r.exitMs)} ms`);
  expect(r.exitMs).toBeLessThan(1500);
});

test('a peer in another process that does not read: the exit still waits for it, for the bound', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-linger-local-'));
  const hub = new Stack('vdestack', `hub://${dir}/hub`);
  const held: net.Socket[] = [];
  try {
    hub.linkSetUpDown('vde0', true);
    hub.ipAddrAdd('10.0.0.1', 24, 'vde0');
    const server = hub.net.createServer((s) => {
      s.pause();
      s.on('error', () => {});
      held.push(s);
    });
    await new Promise<void>((r) => server.listen(7100, '10.0.0.1', r));
    const bound = 1000;
    const r = await exitTime(['remote', `vde://${dir}/hub`, '10.0.0.1', '7100'], { IOTHTS_LINGER: String(bound) });
    expect(r.queued).toEqual([true]);
    expect(r.exitMs).toBeGreaterThanOrEqual(bound * 0.9);
    for (const s of held) s.destroy();
    await new Promise((r) => server.close(r));
  } finally {
    hub.close({ linger: 0 });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
