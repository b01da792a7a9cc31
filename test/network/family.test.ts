// Under the hook, the threads and child processes of an app are on its stack, as the threads and
// processes of one host are on its network: worker threads created every way Node allows; fork,
// spawn of node (with the parent blocked in execFileSync, too) and cluster workers (round-robin and
// exclusive servers, shared and exclusive UDP sockets) through the owner's socket broker; a child
// whose parent has exited fails at once with a clear error. Hermetic ones in an empty netns.
import { execFile } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const fixtures = path.join(__dirname, '..', 'fixtures', 'override');
const stackEnv = { IOTH_VNL: 'null://', IOTH_CONFIG: 'eth,ip=10.0.0.1/24,dns=10.0.0.53', ADDR: '10.0.0.1' };

/** node with the hook running `args`: in an empty network namespace of its own unless `hostNetns`. */
type Run = { code: number; stdout: string; stderr: string };

function hooked(args: string[], env: NodeJS.ProcessEnv = {}, hostNetns = false): Promise<Run> {
  const node = [process.execPath, '--import', 'iothts/register', ...args];
  const [cmd, argv] = hostNetns ? [node[0], node.slice(1)] : ['unshare', ['--net', '--', ...node]];
  const { NODE_OPTIONS: _, ...clean } = process.env;
  return new Promise((resolve) => {
    const options = { cwd: root, env: { ...clean, ...stackEnv, ...env }, timeout: 25000 };
    execFile(cmd, argv, options, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

function report(run: Run): Record<string, unknown> {
  if (run.code !== 0 || !run.stdout.trim()) throw new Error(`exit ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

test('worker threads use the stack however they are created: eval, ESM, a file URL, SHARE_ENV, an env or execArgv of their own, nested, in a child', async () => {
  const got = report(await hooked([path.join(fixtures, 'workers.mjs'), '10.0.0.1']));
  const { main, ...variants } = got;
  expect(main).toEqual(['10.0.0.53']);
  // Each reached the app's server on vde0's address (an empty netns has no such address: a worker
  // on the host gets ENETUNREACH, one on a stack of its own ECONNREFUSED or ENETUNREACH), and
  // resolves with the app's servers.
  for (const [variant, result] of Object.entries(variants)) {
    expect({ variant, result }).toEqual({ variant, result: { got: 'saw ::ffff:10.0.0.1', servers: ['10.0.0.53'] } });
  }
  expect(Object.keys(variants)).toHaveLength(10);
});

test('fork and spawn of node share the parent\'s stack (127.0.0.1, vde0\'s address, listings); a child without NODE_OPTIONS is on the host', async () => {
  // In the private netns (lo up, the host's loopback usable): a server of the host's here.
  const hostServer = net.createServer((s) => s.end('the host')).listen(0, '127.0.0.1');
  await new Promise((r) => hostServer.once('listening', r));
  try {
    const hostPort = String((hostServer.address() as net.AddressInfo).port);
    const got = report(await hooked([path.join(fixtures, 'family.js'), 'fork'], { HOSTPORT: hostPort }, true));
    const onStack = {
      // The parent's server sees the child's connections from the stack's own addresses.
      loopback: { got: '::ffff:127.0.0.1', local: '127.0.0.1' },
      vde0: { got: '::ffff:10.0.0.1', local: '10.0.0.1' },
      // The stack's loopback has no such port: the host's server is out of reach.
      host: { error: 'ECONNREFUSED' },
      mode: 'broker',
      links: ['lo', 'vde0'],
      addresses: ['10.0.0.1'],
    };
    expect(got.forked).toEqual(onStack);
    expect(got.spawned).toEqual(onStack);
    // Its environment without NODE_OPTIONS: plain node, on the host (which lacks vde0's address).
    expect(got.withoutHook).toEqual({
      loopback: { error: 'ECONNREFUSED' }, vde0: { error: 'ENETUNREACH' }, host: { got: 'the host', local: '127.0.0.1' },
      mode: null, links: null, addresses: null,
    });
    // The broker is not on the parent's JS thread: a child run while that thread is blocked gets sockets.
    expect(got.blocked).toEqual({ got: 'self', mode: 'broker' });
    expect(got.nodeOptions).toBe(`--require ${JSON.stringify(path.join(root, 'dist', 'register.js'))}`);
  } finally {
    hostServer.close();
  }
});

test('cluster workers on the primary\'s stack: http round-robin and exclusive, UDP shared and exclusive (hermetic)', async () => {
  const got = report(await hooked([path.join(fixtures, 'family.js'), 'cluster']));
  expect(got).toEqual({ roundRobin: 2, exclusive: [true, true], udpShared: true, udpExclusive: [true, true] });
});

test('a child whose parent has exited: its next socket fails at once (ENETDOWN) with a warning saying why', async () => {
  const run = await hooked([path.join(fixtures, 'family.js'), 'orphan']);
  // The child writes to the inherited stdout after the parent is gone: execFile waits for it.
  const got = JSON.parse(run.stdout) as { code: string; message: string; ms: number };
  expect(got.code).toBe('ENETDOWN');
  expect(got.message).toMatch(/^connect ENETDOWN 127\.0\.0\.1:80/);
  expect(got.ms).toBeLessThan(1000);
  expect(run.stderr).toMatch(/\[ERR_IOTH_STACK_CLOSED\] Warning: the stack of process \d+, which this process borrows, is gone/);
});

test('a child started after its parent\'s stack is gone stops in one line', async () => {
  // What a process under the hook gives its children, kept after that process has exited.
  const record = (await hooked(['-p', 'process.env.IOTHTS_SHARED_STACK'])).stdout.trim();
  const { pid } = JSON.parse(record) as { pid: number };
  const run = await hooked(['-e', 'console.log("app ran")'], { IOTHTS_SHARED_STACK: record });
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: '' });
  expect(run.stderr).toMatch(new RegExp(`^iothts/register: the stack of process ${pid}, which this process borrows, is gone .*\n$`));
});
