// Issue 16, item 5: IPv6 zones ("fe80::1%vde0") are the stack's interfaces, not the host's: a bind,
// listen, connect or send to a link-local address with its zone works through stack.net and
// stack.dgram and under the hook (in an empty netns, where libuv's host-side lookup found no
// vde0), both ways, and the addresses Node reports name the zone as natively. A zone that names no
// interface (a name, or a number: Node on Linux takes a zone as a name only) fails as natively;
// those answers come from native Node in a netns with a veth pair in the same run.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from '../../src';
import { formatIp } from '../../src/internal/address';
import { native } from '../../src/internal/native';

const root = path.resolve(__dirname, '..', '..');
const fixtures = path.join(__dirname, '..', 'fixtures');
const { report } = require(path.join(fixtures, 'zone-errors.js')) as {
  report(net: unknown, dgram: unknown, zones: string[]): Promise<Record<string, unknown>>;
};

let dir: string;
let hub: Stack;
let echo: net.Server;
let witness: number; // a plain UDP socket of the hub's stack, port 7001: what arrives there
const children: ChildProcess[] = [];

function member(vnl: string, ip: string): Stack {
  const s = new Stack('vdestack', vnl);
  s.linkSetUpDown('vde0', true);
  s.ipAddrAdd(ip, 64, 'vde0', { nodad: true });
  return s;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-zones-'));
  hub = member(`hub://${dir}/hub`, 'fe80::9');
  echo = hub.net.createServer((s) => s.on('data', (d) => s.end(`${d} to ${s.localAddress} from ${s.remoteAddress}`)));
  await new Promise<void>((r, j) => echo.once('error', j).listen(7000, 'fe80::9%vde0', r));
  witness = hub.socketFd(6, 'udp');
  native.bindSocket(witness, 6, Buffer.alloc(16), 7001, false, false);
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  require('node:fs').closeSync(witness);
  await new Promise((r) => echo.close(r));
  hub.close({ linger: 0 });
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The next datagrams at the witness: [text, source address, port, scope], polled without blocking. */
async function arrivals(n: number): Promise<[string, string, number, number][]> {
  const out: [string, string, number, number][] = [];
  const until = Date.now() + 5000;
  while (out.length < n && Date.now() < until) {
    const r = native.recvFrom(witness, 0);
    if (r) out.push([String(r.data), formatIp(r.address), r.port, r.scopeId]);
    else await new Promise((res) => setTimeout(res, 10));
  }
  return out;
}

function exchange(stackNet: Stack['net'], port: number, host: string): Promise<{ reply: string; local: string; remote: string }> {
  return new Promise((resolve, reject) => {
    const c = stackNet.connect(port, host, () => c.write('hi'));
    let reply = '';
    c.on('data', (d) => { reply += d; });
    c.on('end', () => resolve({ reply, local: c.localAddress!, remote: c.remoteAddress! }));
    c.on('error', reject);
  });
}

test('stack.net and stack.dgram: TCP both ways and UDP over fe80::...%vde0 between two stacks', async () => {
  const other = member(`vde://${dir}/hub`, 'fe80::2');
  try {
    const index = hub.ifNameToIndex('vde0');
    // There: the other stack connects to the hub's server.
    expect(await exchange(other.net, 7000, 'fe80::9%vde0'))
      .toEqual({ reply: 'hi to fe80::9%vde0 from fe80::2%vde0', local: 'fe80::2%vde0', remote: 'fe80::9%vde0' });
    // And back: the hub connects to a server of the other stack's.
    const server = other.net.createServer((s) => s.on('data', (d) => s.end(`${d} to ${s.localAddress} from ${s.remoteAddress}`)));
    await new Promise<void>((r) => server.listen(7002, 'fe80::2%vde0', r));
    expect(server.address()).toEqual({ address: 'fe80::2%vde0', family: 'IPv6', port: 7002 });
    expect(await exchange(hub.net, 7002, 'fe80::2%vde0'))
      .toEqual({ reply: 'hi to fe80::2%vde0 from fe80::9%vde0', local: 'fe80::9%vde0', remote: 'fe80::2%vde0' });
    await new Promise((r) => server.close(r));
    // UDP: bound to its link-local address, a datagram sent to a zoned address, then a connected one.
    const u = other.dgram.createSocket('udp6');
    await new Promise<void>((r) => u.bind(0, 'fe80::2%vde0', r));
    expect(u.address()).toMatchObject({ address: 'fe80::2%vde0', family: 'IPv6' });
    await new Promise<void>((r, j) => u.send('sent', 7001, 'fe80::9%vde0', (e) => (e ? j(e) : r())));
    const v = other.dgram.createSocket('udp6');
    await new Promise<void>((r) => v.connect(7001, 'fe80::9%vde0', r));
    expect(v.remoteAddress()).toEqual({ address: 'fe80::9%vde0', family: 'IPv6', port: 7001 });
    await new Promise<void>((r, j) => v.send('connected', (e) => (e ? j(e) : r())));
    const got = await arrivals(2);
    expect(got).toContainEqual(['sent', 'fe80::2', u.address().port, index]);
    expect(got.map((g) => [g[0], g[1], g[3]])).toContainEqual(['connected', 'fe80::2', index]);
    u.close();
    v.close();
  } finally {
    other.close({ linger: 0 });
  }
});

test('under the hook, in an empty netns: TCP both ways and UDP over fe80::...%vde0', async () => {
  const child = spawn('unshare', ['--net', '--', process.execPath, '--import', 'iothts/register', path.join(fixtures, 'zone-app.js'), 'fe80::9', '7000', '7001'], {
    cwd: root, env: { ...process.env, IOTH_VNL: `vde://${dir}/hub`, IOTH_CONFIG: 'eth,ip=fe80::3/64,nodad' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const done = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      if (done.some((l) => 'udp' in l || 'error' in l)) {
        lines.push(...done);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`the app exited ${code}: ${out}`)));
  });
  expect(lines).toEqual([
    { listening: { address: 'fe80::3%vde0', family: 'IPv6', port: 7003 } },
    { tcp: 'hi to fe80::9%vde0 from fe80::3%vde0', local: 'fe80::3%vde0', remote: 'fe80::9%vde0' },
    { udp: expect.objectContaining({ address: 'fe80::3%vde0', family: 'IPv6' }), sent: 4, connected: { address: 'fe80::9%vde0', family: 'IPv6', port: 7001 } },
  ]);
  const got = await arrivals(2);
  expect(got.map((g) => [g[0], g[1]])).toEqual(expect.arrayContaining([['sent', 'fe80::3'], ['connected', 'fe80::3']]));
  // The other way: the hub's stack connects to the app's server.
  expect(await exchange(hub.net, 7003, 'fe80::3%vde0'))
    .toEqual({ reply: 'hi to fe80::3%vde0 from fe80::9%vde0', local: 'fe80::9%vde0', remote: 'fe80::3%vde0' });
});

describe('a zone that names no interface fails as natively', () => {
  let nativeReport: Record<string, unknown>;
  let index: number;
  beforeAll(() => {
    nativeReport = JSON.parse(execFileSync('unshare', ['--net', '--', 'sh', '-c',
      // One interface, whose only link-local address is fe80::1 (as the stack's vde0 below).
      'ip link set lo up && ip link add veth0 type veth peer name veth1 && ip link set veth0 addrgenmode none && ' +
      'ip link set veth1 addrgenmode none && ip link set veth0 up && ip link set veth1 up && ' +
      'ip addr add fe80::1/64 dev veth0 nodad && exec "$0" "$1" nosuch "$(ip -o link show veth0 | cut -d: -f1)"',
      process.execPath, path.join(fixtures, 'zone-errors.js')], { encoding: 'utf8', timeout: 30000 })) as Record<string, unknown>;
    const probe = new Stack('vdestack', 'null://');
    index = probe.ifNameToIndex('vde0');
    probe.close();
  });

  test('natively: listen and bind fail EINVAL (so the comparisons mean something)', () => {
    expect(nativeReport['name listen']).toMatchObject({ code: 'EINVAL', syscall: 'listen', address: 'fe80::1%<zone>' });
    expect(nativeReport['numeric udp bind']).toMatchObject({ code: 'EINVAL', syscall: 'bind' });
  });

  test('under the hook: the same answers, error messages included (a number: the stack\'s vde0 index)', () => {
    const hooked = JSON.parse(execFileSync('unshare', ['--net', '--', process.execPath, '--import', 'iothts/register',
      path.join(fixtures, 'zone-errors.js'), 'nosuch', String(index)], {
      cwd: root, encoding: 'utf8', timeout: 30000, env: { ...process.env, IOTH_VNL: 'null://', IOTH_CONFIG: 'eth,ip=fe80::1/64,nodad' },
    })) as Record<string, unknown>;
    expect(hooked).toEqual(nativeReport);
  });

  test("a stack's net and dgram: the same codes and fields (their messages say where)", async () => {
    const stack = new Stack('vdestack', 'null://');
    try {
      stack.linkSetUpDown('lo', true); // as natively and under the hook: a connect to itself goes through lo
      stack.linkSetUpDown('vde0', true);
      stack.ipAddrAdd('fe80::1', 64, 'vde0', { nodad: true });
      const fields = (r: Record<string, unknown>) => JSON.parse(JSON.stringify(r, (k, v: unknown) => (k === 'message' ? undefined : v))) as unknown;
      expect(fields(await report(stack.net, stack.dgram, ['nosuch', String(stack.ifNameToIndex('vde0'))]))).toEqual(fields(nativeReport));
    } finally {
      stack.close({ linger: 0 });
    }
  });
});
