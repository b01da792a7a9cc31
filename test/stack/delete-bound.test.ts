// The bound on deleting a stack comes from TypeScript (src/internal/native.ts DELETE_BOUND_MS, or the
// constructor's third argument) and holds wherever the deletion happens: close(), the process's
// exit. The stack here is a real libioth plugin, compiled by the test, whose deletion hangs the way
// vdestack's does when its helper is stuck: it waits for a child process that never ends by itself.
// (In child processes: libioth finds plugins through HOME, read from the real environment.)
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { native } from '../../src/internal/native';

const root = path.resolve(__dirname, '..', '..');
let home: string;
beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-home-'));
  fs.mkdirSync(path.join(home, '.ioth'));
  execFileSync('cc', ['-shared', '-fPIC', '-o', path.join(home, '.ioth', 'ioth_stuck-r.so'),
    path.join(__dirname, '..', 'fixtures', 'ioth_stuck.c')], { stdio: 'inherit' });
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

// Helpers of the child's main thread, found as the addon finds them; and whether each is still there.
const PRELUDE = `
  const fs = require('node:fs');
  const path = require('node:path');
  const { native, DELETE_BOUND_MS } = require(path.resolve('dist/src/internal/native'));
  const { Stack } = require('iothts');
  const children = () => fs.readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8').split(' ').filter(Boolean).map(Number);
  const alive = (pid) => { try { return !/\\) Z /.test(fs.readFileSync('/proc/' + pid + '/stat', 'utf8')); } catch { return false; } };
`;

test('close() of a stack whose deletion hangs returns after the bound given from TypeScript', () => {
  const script = `${PRELUDE}
    function timeClose(make) {
      const before = children();
      const stack = make();
      const helpers = children().filter((p) => !before.includes(p));
      const start = performance.now();
      stack.close();
      return { ms: performance.now() - start, helpers: helpers.length, alive: helpers.filter(alive).length };
    }
    console.log(JSON.stringify({
      bound300: timeClose(() => new native.NativeStack('stuck', [], 300)),
      stack: timeClose(() => new Stack('stuck')),
      deleteBoundMs: DELETE_BOUND_MS,
    }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], {
    cwd: root, env: { ...process.env, HOME: home }, encoding: 'utf8', timeout: 20000,
  }));
  console.log(`delete bound: ${JSON.stringify(out)}`);
  for (const run of [out.bound300, out.stack]) {
    expect(run.helpers).toBe(1); // the plugin's child, tracked as the helper
    expect(run.alive).toBe(0); // killed at the bound, and reaped by the plugin's delstack
  }
  expect(out.bound300.ms).toBeGreaterThanOrEqual(290);
  expect(out.bound300.ms).toBeLessThan(300 + 700); // not the 2 s the addon used to fix for itself
  // A Stack gets DELETE_BOUND_MS, whatever its linger (nothing to linger for here).
  expect(out.deleteBoundMs).toBe(2000);
  expect(out.stack.ms).toBeGreaterThanOrEqual(out.deleteBoundMs - 10);
  expect(out.stack.ms).toBeLessThan(out.deleteBoundMs + 1000);
});

test('a stack left open at exit is deleted within its bound too', async () => {
  const script = `${PRELUDE}
    globalThis.kept = new native.NativeStack('stuck', [], 300);
    const helpers = children();
    console.log(JSON.stringify({ helpers }));`;
  const child = spawn(process.execPath, ['-e', script], { cwd: root, env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'inherit'] });
  let made = 0;
  let out = '';
  child.stdout.on('data', (d) => { out += d; made ||= performance.now(); });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  const took = performance.now() - made;
  const { helpers } = JSON.parse(out);
  console.log(`exit with a hanging stack (bound 300 ms): ${Math.round(took)} ms after it was made`);
  expect(code).toBe(0);
  expect(helpers).toHaveLength(1);
  expect(fs.existsSync(`/proc/${helpers[0]}`)).toBe(false);
  expect(took).toBeGreaterThanOrEqual(250); // the output arrives a little after the stack was made
  expect(took).toBeLessThan(300 + 1000);
}, 20000);

test('the bound is checked natively', () => {
  for (const bad of [-1, 1.5, 60001, '300', null]) {
    expect(() => new native.NativeStack('vdestack', [], bad as number)).toThrow(expect.objectContaining({
      code: typeof bad === 'number' ? 'ERR_OUT_OF_RANGE' : 'ERR_INVALID_ARG_TYPE',
      message: expect.stringMatching(/^NativeStack: argument 2 must be (an integer from 0 to 60000|a number)$/),
    }));
  }
});
