// vdestack runs a helper process per stack (it bridges the tap interface to the VDE network). Those
// helpers must end with close(), with the Node process however it ends, and leave no descriptors.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Stack } from '../../src';
import { childrenOf, isAlive, openFds, waitGone } from '../helpers/procs';

const fixture = path.join(__dirname, '..', 'fixtures', 'hold-stacks.js');

function run(
  how: string, count = 3,
): Promise<{ info: { pid: number; helpers: number[] }; exit: Promise<number | null>; kill: () => void }> {
  const child = spawn(process.execPath, [fixture, String(count), how], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ info: JSON.parse(out), exit, kill: () => child.kill('SIGKILL') });
    });
    child.on('exit', (code) => { if (!out.includes('\n')) reject(new Error(`fixture exited ${code}: ${err}`)); });
  });
}

test('close() ends the helper process at once', async () => {
  const before = childrenOf(process.pid);
  const stack = new Stack('vdestack', 'null://');
  const helpers = childrenOf(process.pid).filter((p) => !before.includes(p));
  expect(helpers).toHaveLength(1);
  stack.close();
  expect(await waitGone(helpers, 1000)).toBeLessThan(1000);
});

test.each([['exit', 0], ['process.exit', 3], ['throw', 1]])('helpers end with the process (%s)', async (how, code) => {
  const { info, exit } = await run(how);
  expect(info.helpers).toHaveLength(3);
  expect(await exit).toBe(code);
  // An environment cleanup hook deletes every stack as Node shuts down.
  expect(await waitGone(info.helpers, 2000)).toBeLessThan(2000);
});

test('a worker thread\'s stacks end with the worker', async () => {
  const { Worker } = await import('node:worker_threads');
  const before = childrenOf(process.pid);
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads');
    const { Stack } = require(${JSON.stringify(path.resolve(__dirname, '..', '..'))});
    globalThis.kept = [new Stack('vdestack', 'null://'), new Stack('vdestack', 'null://')];
    parentPort.postMessage('ready');
    setInterval(() => {}, 1000);
  `, { eval: true });
  await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  const helpers = childrenOf(process.pid).filter((p) => !before.includes(p));
  expect(helpers).toHaveLength(2);
  await worker.terminate();
  expect(await waitGone(helpers, 2000)).toBeLessThan(2000);
});

// Measured (52 kills): most helpers are gone within 25 ms, the others when their 10 s poll wakes
// them (0.4 to 9.9 s). 12 s is that period plus a margin for a loaded machine.
test('after SIGKILL, helpers notice within libioth\'s 10 s poll period', async () => {
  const { info, exit, kill } = await run('hang', 2);
  expect(info.helpers.every(isAlive)).toBe(true);
  kill();
  await exit;
  const took = await waitGone(info.helpers, 12000);
  expect(took).toBeLessThan(12000);
}, 20000);

test('100 stacks created and closed leave no descriptor and no process behind', () => {
  // The first vdestack stack of a thread opens that thread's own network namespace once, for the
  // socket fast path (kept until the thread's Node environment ends): not a per-stack descriptor.
  new Stack('vdestack', 'null://').close();
  const fds = openFds();
  const children = childrenOf(process.pid).length;
  for (let i = 0; i < 100; i++) {
    const stack = new Stack('vdestack', 'null://');
    expect(stack.socketMode).toBe('setns'); // each holds a descriptor of its helper's namespace
    stack.linkSetUpDown('vde0', true);
    stack.ipAddrAdd('10.0.0.1', 24, 'vde0');
    stack.interfaces();
    require('node:fs').closeSync(stack.socketFd(4, 'tcp'));
    stack.close();
  }
  expect(openFds()).toBe(fds);
  expect(childrenOf(process.pid)).toHaveLength(children);
});

test('sockets from socketFd are the caller\'s: closing them or the stack in either order is safe', () => {
  const fds = openFds();
  const stack = new Stack('vdestack', 'null://');
  const fd = stack.socketFd(4, 'tcp');
  stack.close(); // libioth's EBUSY rule does not apply: the fd was released to the caller
  require('node:fs').closeSync(fd);
  expect(openFds()).toBe(fds);
});

test('`using` closes the stack at the end of the block', () => {
  let seen: Stack | undefined;
  {
    using stack = new Stack('vdestack');
    seen = stack;
    expect(stack.closed).toBe(false);
  }
  expect(seen.closed).toBe(true);
});

test('closing a hub host while its clients talk returns at once, every time', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-hubclose-'));
  const fds = openFds();
  try {
    let slowest = 0;
    for (let round = 0; round < 15; round++) {
      const host = new Stack('vdestack', `hub://${dir}/hub${round}`);
      const clients = [1, 2].map(() => new Stack('vdestack', `vde://${dir}/hub${round}`));
      for (const [i, s] of [host, ...clients].entries()) {
        s.linkSetUpDown('vde0', true);
        s.ipAddrAdd(`10.0.0.${i + 1}`, 24, 'vde0');
      }
      // Traffic in flight towards the hub while it closes: broadcasts from both clients.
      const senders = clients.map((c) => {
        const u = c.dgram.createSocket('udp4');
        u.bind(0, () => u.setBroadcast(true));
        const timer = setInterval(() => u.send('x', 9, '10.0.0.255', () => {}), 1);
        return () => { clearInterval(timer); u.close(); };
      });
      await new Promise((r) => setTimeout(r, 20));
      const began = Date.now();
      host.close(); // the hub goes first, its clients still sending
      slowest = Math.max(slowest, Date.now() - began);
      for (const stop of senders) stop();
      for (const c of clients) c.close();
    }
    expect(slowest).toBeLessThan(1000);
    // Known upstream leak, left as it is: the connections a hub-hosting helper accepts (two
    // descriptors per client in the shared fd table) are closed by nobody when the hub closes.
    expect(openFds() - fds).toBeLessThanOrEqual(15 * 2 * 2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60000);

// At the process's end the stacks' taps are made persistent before their helpers close them, so
// that no one waits for the kernel to unregister them (15 to 35 ms a stack here): they go with their
// namespaces, in the kernel's own asynchronous cleanup. Measured in the process, between an 'exit'
// listener before iothts's and one after it: 55 to 80 ms for 3 stacks before, 3 to 8 ms after.
const exitFixture = path.join(__dirname, '..', 'fixtures', 'exit-timing.js');

/** Live network namespaces, by the kernel's slab of them; null where /proc/slabinfo is not readable. */
function netnsObjects(): number | null {
  try {
    const line = require('node:fs').readFileSync('/proc/slabinfo', 'utf8').split('\n').find((l: string) => l.startsWith('net_namespace '));
    return line ? Number(line.split(/\s+/)[1]) : null;
  } catch {
    return null;
  }
}

test('at exit, stacks are deleted without waiting for their devices or loading anything, and leave no helper or namespace', async () => {
  const { spawnSync } = await import('node:child_process');
  const before = netnsObjects();
  const took: number[] = [];
  const rounds = 8;
  for (let round = 0; round < rounds; round++) {
    const r = spawnSync(process.execPath, [exitFixture, '3'], { encoding: 'utf8', cwd: path.dirname(exitFixture) });
    expect(r.status).toBe(0);
    const at = (what: string) => Number(new RegExp(`^${what} (\\S+)$`, 'm').exec(r.stdout)![1]);
    took.push(at('after') - at('before'));
    const helpers = JSON.parse(/^helpers (.*)$/m.exec(r.stdout)![1]) as number[];
    expect(helpers).toHaveLength(3);
    expect(helpers.filter(isAlive)).toEqual([]); // waited for, as before: gone when the process is
    // Nothing is loaded for the exit's own work (the lingers took the global `performance` once).
    expect(JSON.parse(/^loaded (.*)$/m.exec(r.stdout)![1])).toEqual([]);
  }
  took.sort((a, b) => a - b);
  console.log(`deleting 3 stacks at exit: ${took.map((t) => t.toFixed(1)).join(', ')} ms`);
  expect(took[rounds >> 1]).toBeLessThan(30);
  // 24 namespaces were made: the kernel frees them (and their taps) within moments. The count is
  // the machine's, and the suite's other files make namespaces meanwhile (9 more at one moment
  // seen on Debian 13), hence the margin, half of what a leak would leave.
  if (before !== null) {
    const { until } = await import('../helpers/until');
    await until(() => `net namespaces back near ${before} (now ${netnsObjects()})`, () => netnsObjects()! <= before + 12, { timeout: 5000, interval: 50 });
  }
});

// vdestack's helper ends at the wake-up that sees its command pipe closed, before it reads its tap:
// a frame queued there when the stack is deleted never left. close() waits (at most 100 ms) until
// the helper has taken what the stack sent. Made certain here by stopping the helper: the datagram
// waits on the tap, and the helper resumes 30 ms into close(), seeing both the frame and the closed
// pipe at once, unless close() waited.
test('close() lets the frames already sent leave before the bridge goes', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const { spawn } = await import('node:child_process');
  const { until } = await import('../helpers/until');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-drain-'));
  const receiver = new Stack('vdestack', `hub://${dir}/hub`);
  const before = childrenOf(process.pid);
  const sender = new Stack('vdestack', `vde://${dir}/hub`);
  const [helper] = childrenOf(process.pid).filter((p) => !before.includes(p));
  for (const [i, s] of [receiver, sender].entries()) {
    s.linkSetUpDown('vde0', true);
    s.ipAddrAdd(`10.7.0.${i + 1}`, 24, 'vde0');
  }
  const inbox = receiver.dgram.createSocket('udp4');
  const out = sender.dgram.createSocket('udp4');
  try {
    const got: string[] = [];
    inbox.on('message', (m) => got.push(m.toString()));
    await new Promise<void>((r) => inbox.bind(7000, '10.7.0.1', r));
    const send = (text: string) => new Promise<void>((r, j) => out.send(text, 7000, '10.7.0.1', (e) => (e ? j(e) : r())));
    await send('first'); // resolves the receiver's link address
    await until(() => 'the first datagram', () => got.includes('first'), { timeout: 5000 });

    process.kill(helper, 'SIGSTOP');
    await send('last'); // on the tap, which the stopped helper does not read
    spawn('sh', ['-c', `sleep 0.03; kill -CONT ${helper}`], { stdio: 'ignore' });
    out.close();
    sender.close();
    await until(() => `the last datagram (got ${JSON.stringify(got)})`, () => got.includes('last'), { timeout: 3000 });
  } finally {
    try { process.kill(helper, 'SIGCONT'); } catch { /* gone */ }
    for (const s of [out, inbox]) try { s.close(); } catch { /* closed */ }
    sender.close();
    receiver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
