// Issue 16, item 4: two UDP sockets on one port behave as natively, for every combination of
// reuseAddr and reusePort (this Node's: reusePort exists from 22.12/23.1): under the hook (libuv's
// uv_udp_open turns SO_REUSEADDR on for a descriptor opened into a handle, which let a second
// socket bind a port in use) and with a stack's dgram. The native answers come from the same
// program on loopback, in a namespace of its own, in the same run.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { Stack } from '../../src';

const root = path.resolve(__dirname, '..', '..');
const fixture = path.join(__dirname, '..', 'fixtures', 'udp-reuse.js');
// A fixed port: each run below has a network namespace (or a stack) of its own.
const PORT = 40417;

type Report = Record<string, unknown[]>;
const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Report => JSON.parse(execFileSync(cmd, args, {
  cwd: root, encoding: 'utf8', timeout: 30000, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'],
})) as Report;

let native: Report;
beforeAll(() => {
  native = run('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, fixture, String(PORT)]);
});

test('natively: a second bind of a port in use fails, and both bind with reuseAddr (so the comparisons mean something)', () => {
  const [first, second] = native['udp4 {} then {}'];
  expect(first).toBe('bound');
  expect(second).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', address: '127.0.0.1', port: PORT });
  expect(native['udp6 {"reuseAddr":true} then {"reuseAddr":true}']).toEqual(['bound', 'bound']);
  expect(native['udp4 {} then {"reuseAddr":true}'][1]).toMatchObject({ code: 'EADDRINUSE' });
});

test('under the hook, in an empty netns: the same answers as native Node, error fields included', () => {
  const hooked = run('unshare', ['--net', '--', process.execPath, '--import', 'iothts/register', fixture, String(PORT)],
    { IOTH_VNL: 'null://', IOTH_CONFIG: 'eth' });
  expect(hooked).toEqual(native);
});

// stack.dgram's errors add where they happened to Node's message (as all of iothts's): the fields match.
const withoutMessages = (r: Report): Report => JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === 'message' ? undefined : v))) as Report;

test("a stack's dgram: the same answers as native Node (the error's fields but its message)", async () => {
  const stack = new Stack('vdestack', 'null://');
  try {
    stack.linkSetUpDown('lo', true);
    const { report } = require(fixture) as { report(dgram: unknown, port: number): Promise<Report> };
    expect(withoutMessages(await report(stack.dgram, PORT))).toEqual(withoutMessages(native));
  } finally {
    stack.close();
  }
});
