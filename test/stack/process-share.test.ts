// stack.share({ processes: true }): other processes of this user use the stack through its broker
// (addon/c/broker.c): a plain node child (no hook) opens sockets of it and lists it, but may not
// configure it; another user is refused; once the owner closes the stack the child is told so.
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Stack } from '../../src';

const root = path.resolve(__dirname, '..', '..');

// The child: connects to PORT on the shared stack's 127.0.0.1, then reports what it saw.
const child = `
  const { Stack } = require(${JSON.stringify(root)});
  const stack = new Stack({ share: JSON.parse(process.env.SHARE) });
  const code = (fn) => { try { fn(); return 'ok'; } catch (e) { return e.code; } };
  const done = (r) => { console.log(JSON.stringify(r)); stack.close(); };
  const report = { mode: stack.socketMode, owned: stack.owned };
  if (process.env.PORT === '0') {
    done({ ...report, socket: code(() => stack.socketFd(4, 'tcp')) });
  } else {
    const c = stack.net.connect(Number(process.env.PORT), '127.0.0.1');
    let got = '';
    c.on('data', (d) => { got += d; });
    c.on('error', (e) => done({ ...report, error: e.code }));
    c.on('end', () => done({ ...report, got,
      links: stack.links().map((l) => l.name),
      lo: stack.interfaces().lo.map((a) => a.address),
      index: stack.ifNameToIndex('lo'),
      configure: code(() => stack.linkSetUpDown('lo', false)),
      passedOn: stack.share(),
    }));
  }`;

type Ids = { uid?: number; gid?: number };

function runChild(env: NodeJS.ProcessEnv, options: Ids = {}): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', child], { env: { ...process.env, ...env }, timeout: 15000, ...options }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}: ${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

test('a child process uses a stack shared with processes: sockets and listings, no configuration', async () => {
  const stack = new Stack('vdestack', 'null://');
  try {
    stack.linkSetUpDown('lo', true);
    const share = stack.share({ processes: true });
    expect(share).toMatchObject({ owner: process.pid, broker: expect.stringMatching(/^iothts\/\d+\/[0-9a-f]{16}$/) });
    expect(stack.share({ processes: true }).broker).toBe(share.broker); // one broker per stack
    const server = stack.net.createServer((s) => s.end(`seen from ${s.remoteAddress}`)).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const got = await runChild({ SHARE: JSON.stringify(share), PORT: String((server.address() as AddressInfo).port) });
    server.close();
    expect(got).toEqual({
      mode: 'broker', owned: false, got: 'seen from 127.0.0.1',
      links: stack.links().map((l) => l.name), lo: ['127.0.0.1', '::1'], index: stack.ifNameToIndex('lo'),
      configure: 'ERR_IOTH_STACK_BORROWED', passedOn: share,
    });
    // The child's attempt changed nothing.
    expect(stack.links().find((l) => l.name === 'lo')!.up).toBe(true);
  } finally {
    stack.close();
  }
});

test('the broker serves only its own user, and nothing once the stack is closed', async () => {
  const stack = new Stack('vdestack', 'null://');
  const share = JSON.stringify(stack.share({ processes: true }));
  try {
    if (process.getuid!() === 0) {
      // nobody: may read this tree (and load the addon), but gets no socket of root's stack.
      expect(await runChild({ SHARE: share, PORT: '0' }, { uid: 65534, gid: 65534 })).toMatchObject({ socket: 'EACCES' });
    }
    expect(await runChild({ SHARE: share, PORT: '0' })).toMatchObject({ socket: 'ok' });
  } finally {
    stack.close();
  }
  expect(await runChild({ SHARE: share, PORT: '0' })).toMatchObject({ socket: 'ERR_IOTH_STACK_CLOSED' });
});

// Without CAP_SYS_ADMIN the owner makes sockets through vdestack's helper (no setns): its broker
// thread does the same for the child. (A stack with no VNL: no tap, which nobody may not open here.)
const unprivileged = process.getuid!() === 0 ? test : test.skip;
unprivileged('an unprivileged owner (sockets from the helper) serves its child the same way', async () => {
  const owner = `
    const { Stack } = require(${JSON.stringify(root)});
    const stack = new Stack('vdestack');
    stack.linkSetUpDown('lo', true);
    const server = stack.net.createServer((s) => s.end('seen from ' + s.remoteAddress)).listen(0, '127.0.0.1', () => {
      const env = { ...process.env, SHARE: JSON.stringify(stack.share({ processes: true })), PORT: String(server.address().port) };
      require('node:child_process').execFile(process.execPath, ['-e', ${JSON.stringify(child)}], { env }, (err, stdout, stderr) => {
        console.log(JSON.stringify({ owner: stack.socketMode, child: err ? stderr : JSON.parse(stdout) }));
        server.close();
        stack.close();
      });
    });`;
  const got = await new Promise<Record<string, unknown>>((resolve, reject) => {
    execFile(process.execPath, ['-e', owner], { env: { ...process.env, HOME: '/tmp' }, uid: 65534, gid: 65534, timeout: 15000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(JSON.parse(stdout))));
  });
  expect(got).toEqual({ owner: 'helper', child: expect.objectContaining({ mode: 'broker', got: 'seen from 127.0.0.1', links: ['lo'] }) });
});

// Each round: a child asks as fast as it can (thousands of sockets) while the owner closes the
// stack. A connection queued on the stopping broker is reset rather than refused: it must read as
// "gone" too (it was ECONNRESET in 4 of 5 rounds before the client mapped it).
const hammer = `
  const { Stack } = require(${JSON.stringify(root)});
  const stack = new Stack({ share: JSON.parse(process.env.SHARE) });
  const seen = [];
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    let code = 'ok';
    try { require('node:fs').closeSync(stack.socketFd(4, 'udp')); } catch (e) { code = e.code; }
    if (seen[seen.length - 1]?.code !== code) seen.push({ code, n: 0 });
    // The owner closes the stack once 20 sockets came through (libuv writes the message at once).
    if (++seen[seen.length - 1].n === 20 && code === 'ok') process.send('go');
    if (code !== 'ok') break;
  }
  process.send(seen);`;

test('closing a stack while a child takes sockets from it: sockets, then ERR_IOTH_STACK_CLOSED; nothing crashes', async () => {
  const { spawn } = await import('node:child_process');
  for (let round = 0; round < 5; round++) {
    const stack = new Stack('vdestack', 'null://');
    const env = { ...process.env, SHARE: JSON.stringify(stack.share({ processes: true })) };
    const child = spawn(process.execPath, ['--no-warnings', '-e', hammer], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = new Promise((r) => child.once('exit', r));
    await new Promise((r) => child.once('message', r));
    stack.close(); // joins the broker's thread first: no request can be running on a deleted stack
    const seen = await new Promise<{ code: string; n: number }[]>((r) => child.once('message', (m) => r(m as never)));
    expect(seen.map((s) => s.code)).toEqual(['ok', 'ERR_IOTH_STACK_CLOSED']);
    expect(seen[0].n).toBeGreaterThanOrEqual(20);
    expect(await exited).toBe(0);
  }
});

test.each([
  ['a broker that is not a string', { id: 1, plugin: 'vdestack', pluginOptions: '', vnls: [], broker: 7, owner: 1 }],
  ['a broker without its owner', { id: 1, plugin: 'vdestack', pluginOptions: '', vnls: [], broker: 'iothts/1/0' }],
])('a share with %s is refused, naming options.share', (_, share) => {
  expect(() => new Stack({ share } as never)).toThrow(expect.objectContaining({
    code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"options.share"'),
  }));
});
