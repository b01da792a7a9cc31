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
// Seconds per path, and the fewest rounds that make a run: ~50 rounds a second here (~450 per
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
