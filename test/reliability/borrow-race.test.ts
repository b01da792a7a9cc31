// Memory safety of borrowed stacks: owners close their stacks while worker threads that borrowed
// them are in the middle of calls (test/fixtures/borrow-race.js, in a child process, so a crash is
// a failed test). The child has test/fixtures/slow_msocket.c preloaded: a pause, now and then, where
// a call has found the stack open and libioth is about to use it, longer than a deletion, so that
// a deletion not waiting for the calls in flight is caught in every run. Both socket paths: setns
// (as root) and libioth's helper (without CAP_SYS_ADMIN). In CI this file also runs under the
// AddressSanitizer build (scripts/asan.sh), where a use of freed memory is reported at once.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const fixture = path.join(__dirname, '..', 'fixtures', 'borrow-race.js');
// Seconds per path, and the fewest rounds that make a run: 40-85 rounds a second here (400-850 per
// path), 3-13 under ASan (each stack's helper is a clone of a process whose memory ASan has
// grown). The pause of slow_msocket.c catches a deletion under a call within the first rounds.
const asan = Boolean(process.env.IOTHTS_ADDON);
const SECONDS = asan ? 20 : 10;
const MIN_ROUNDS = asan ? 20 : 100;
const LIMIT_MS = (SECONDS + 45) * 1000;

let dir: string;
let shim: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-race-'));
  shim = path.join(dir, 'slow_msocket.so');
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', shim, path.join(__dirname, '..', 'fixtures', 'slow_msocket.c'), '-ldl'],
    { stdio: 'inherit' });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test.each([
  ['setns', []],
  ['helper', ['setpriv', '--bounding-set=-sys_admin', '--inh-caps=-sys_admin']],
])('owners closing stacks under their borrowers\' calls (%s path): no failed close, no other error, no crash', (mode, prefix) => {
  const [cmd, ...args] = [...prefix, process.execPath, fixture];
  const child = spawnSync(cmd, args, {
    env: {
      ...process.env,
      LD_PRELOAD: [process.env.LD_PRELOAD, shim].filter(Boolean).join(':'), // after libasan's, if any
      BORROW_SECONDS: String(SECONDS),
    },
    encoding: 'utf8',
    timeout: LIMIT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 64 << 20,
  });
  const how = child.signal ? `was killed by ${child.signal}` : `exited ${child.status}`;
  if (child.status !== 0) throw new Error(`the race child ${how}\n--- its stderr:\n${child.stderr.slice(-6000)}`);
  const report = JSON.parse(child.stdout.trim().split('\n').at(-1) as string);
  console.log(`borrow-race (${mode}): ${JSON.stringify(report)}`);
  expect(report.paths).toEqual([mode]);
  expect(report.errors).toBe(0);
  expect(report.busy).toBe(0); // the owner's close never met a borrower's socket in flight
  expect(report.rounds).toBeGreaterThanOrEqual(MIN_ROUNDS);
  expect(report.closedSeen).toBe(report.rounds * 2); // each borrower saw each stack closed
  expect(report.calls).toBeGreaterThan(report.rounds * 5); // the closes met calls
  // A descriptor left per round (a borrower's namespace fd, a netlink socket) would be hundreds;
  // Node's own workers' plumbing may keep one or two.
  expect(report.fdsAfter).toBeLessThanOrEqual(report.fdsBefore + 2);
}, LIMIT_MS + 10000);

// A call that outlasts the delete bound: close() returns after the bound, the stack (its helper
// process) stays until that call ends, which then deletes it; the call itself completes normally.
test('a borrower\'s call longer than the delete bound: close() keeps its bound, the call\'s end deletes the stack', () => {
  const script = `
    const fs = require('node:fs');
    const { Worker } = require('node:worker_threads');
    const { native } = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'dist', 'src', 'internal', 'native'))});
    const children = () => fs.readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8').split(' ').filter(Boolean);
    const alive = (pid) => { try { return !/\\) Z /.test(fs.readFileSync('/proc/' + pid + '/stat', 'utf8')); } catch { return false; } };
    const owner = new native.NativeStack('vdestack', ['null://'], 300); // ioth_msocket call 0: no pause
    const [helper] = children();
    const ctl = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(\`
      const { workerData: { id, ctl, path }, parentPort } = require('node:worker_threads');
      const { native } = require(path);
      const b = new native.NativeStack(id);
      Atomics.store(ctl, 0, 1);
      Atomics.notify(ctl, 0);
      const links = b.links().length; // ioth_msocket call 1: paused 1500 ms
      let after;
      try { b.links(); after = 'ok'; } catch (e) { after = e.code; }
      parentPort.postMessage({ links, after });
    \`, { eval: true, workerData: { id: owner.shareId(), ctl, path: ${JSON.stringify(path.resolve(__dirname, '..', '..', 'dist', 'src', 'internal', 'native'))} } });
    Atomics.wait(ctl, 0, 0);
    Atomics.wait(ctl, 0, 1, 200); // the borrower is in its paused call
    const start = performance.now();
    owner.close();
    const closeMs = performance.now() - start;
    const aliveAfterClose = alive(helper);
    worker.once('message', (m) => {
      const ended = performance.now();
      const poll = setInterval(() => {
        if (alive(helper) && performance.now() - ended < 5000) return;
        clearInterval(poll);
        console.log(JSON.stringify({ closeMs, aliveAfterClose, ...m, goneAfterCallMs: alive(helper) ? null : performance.now() - ended }));
      }, 10);
    });
  `;
  const child = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, LD_PRELOAD: [process.env.LD_PRELOAD, shim].filter(Boolean).join(':'), SLOW_MSOCKET_EVERY: '2', SLOW_MSOCKET_MS: '1500' },
    encoding: 'utf8',
    timeout: 30000,
    killSignal: 'SIGKILL',
  });
  if (child.status !== 0) throw new Error(`the child exited ${child.status ?? child.signal}\n${child.stderr.slice(-6000)}`);
  const seen = JSON.parse(child.stdout.trim().split('\n').at(-1) as string);
  console.log(`past the bound: ${JSON.stringify(seen)}`);
  expect(seen.closeMs).toBeGreaterThanOrEqual(250); // it waited for the call...
  expect(seen.closeMs).toBeLessThan(1000); // ...for the bound (300 ms), not for the call (1500 ms)
  expect(seen.aliveAfterClose).toBe(true); // the stack was not deleted under the call
  expect(seen.links).toBeGreaterThan(0); // which completed normally
  expect(seen.after).toBe('ERR_IOTH_STACK_CLOSED');
  expect(seen.goneAfterCallMs).not.toBeNull(); // the call's end deleted the stack
  expect(seen.goneAfterCallMs).toBeLessThan(2000);
}, 40000);
