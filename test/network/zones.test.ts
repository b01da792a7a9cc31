// Issue 16, item 5: IPv6 zones ("fe80::1%vde0") are the stack's interfaces, not the host's: a bind,
// listen, connect or send to a link-local address with its zone works through stack.net and
// stack.dgram and under the hook (in an empty netns, where libuv's host-side lookup found no
// vde0), both ways, and the addresses Node reports name the zone as natively. A zone that names no
// interface (a name, or a number: Node on Linux takes a zone as a name only) fails as natively;
// those answers come from native Node in a netns with a veth pair in the same run.
// Receiving from a link-local sender gives 'message' with the sender's zone named on the stack, as
// native Node does (which the same run asks over a veth pair); an unref'd socket lets the program
// end, a ref'd one holds it.
import { spawnSync } from 'node:child_process';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from '../../src';
import { formatIp, parseIp } from '../../src/internal/address';
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
    // And received: the hub's stack.dgram gets the other's datagram, its sender zoned on the hub.
    const r = hub.dgram.createSocket('udp6');
    const message = new Promise<[string, unknown]>((res, rej) => {
      r.on('message', (m, rinfo) => res([String(m), rinfo])).on('error', rej);
    });
    await new Promise<void>((res) => r.bind(0, res));
    await new Promise<void>((res, j) => u.send('back', r.address().port, 'fe80::9%vde0', (e) => (e ? j(e) : res())));
    expect(await message).toEqual(['back', { address: 'fe80::2%vde0', family: 'IPv6', port: u.address().port, size: 4 }]);
    r.close();
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
    let answered = false;
    child.stdout!.on('data', (d) => {
      out += d;
      // Once the app has sent, the hub's stack answers its UDP socket, from fe80::9 port 7001.
      const sent = /"udp":\{"address":"fe80::3%vde0","family":"IPv6","port":(\d+)/.exec(out);
      if (sent && !answered) {
        answered = true;
        native.sendTo(witness, Buffer.from('back'), 6, parseIp('address', 'fe80::3').bytes, Number(sent[1]), hub.ifNameToIndex('vde0'));
      }
      const done = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      if (done.some((l) => 'received' in l || 'error' in l)) {
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
    { received: 'back', rinfo: { address: 'fe80::9%vde0', family: 'IPv6', port: 7001, size: 4 } },
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

describe('receiving UDP from a link-local sender: as natively', () => {
  const receive = path.join(fixtures, 'zone-receive.js');
  const { report: receiveReport, gone } = require(receive) as {
    report(dgram: unknown, local: string): Promise<unknown>;
    gone(dgram: unknown, local: string, remove: () => void): Promise<unknown>;
  };
  // Native Node in a netns of its own, its only link-local address fe80::1 on veth0 (of a veth pair).
  const natively = (args: string[]) => spawnSync('unshare', ['--net', '--', 'sh', '-c',
    'ip link set lo up && ip link add veth0 type veth peer name veth1 && ip link set veth0 addrgenmode none && ' +
    'ip link set veth1 addrgenmode none && ip link set veth0 up && ip link set veth1 up && ' +
    'ip addr add fe80::1/64 dev veth0 nodad && exec "$0" "$@"', process.execPath, receive, ...args.map((a) => a.replace('%zone', '%veth0'))],
  { encoding: 'utf8', timeout: 30000 });
  // Under the hook, in an empty netns: the stack's vde0 has fe80::1.
  const hooked = (args: string[]) => spawnSync('unshare', ['--net', '--', process.execPath, '--import', 'iothts/register', receive,
    ...args.map((a) => a.replace('%zone', '%vde0'))], {
    cwd: root, encoding: 'utf8', timeout: 30000, env: { ...process.env, IOTH_VNL: 'null://', IOTH_CONFIG: 'eth,ip=fe80::1/64,nodad' },
  });
  let nativeReport: unknown;
  beforeAll(() => {
    const run = natively(['report', 'fe80::1%zone']);
    nativeReport = JSON.parse(run.stdout);
  });

  test("natively: 'message' with the zone in rinfo.address (so the comparisons mean something)", () => {
    expect(nativeReport).toMatchObject({ messages: [{ text: 'hi', rinfo: { address: 'fe80::1%<zone>', family: 'IPv6', port: 'sender', size: 2 } },
      { length: 0 }, { text: 'connected' }],
    multicast: { text: 'multicast', rinfo: { address: 'fe80::1%<zone>', port: true } }, refused: { code: 'ECONNREFUSED', syscall: 'recvmsg' } });
  });

  test('under the hook: the same messages, field by field', () => {
    const run = hooked(['report', 'fe80::1%zone']);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual(nativeReport);
  });

  test("a stack's dgram: the same messages, field by field", async () => {
    const stack = new Stack('vdestack', 'null://');
    try {
      stack.linkSetUpDown('lo', true);
      stack.linkSetUpDown('vde0', true);
      stack.ipAddrAdd('fe80::1', 64, 'vde0', { nodad: true });
      expect(await receiveReport(stack.dgram, 'fe80::1%vde0')).toEqual(nativeReport);
    } finally {
      stack.close({ linger: 0 });
    }
  });

  test("a sender's interface gone before the read: the same 'error' (ENXIO, uv_if_indextoiid)", async () => {
    const there = JSON.parse(natively(['gone', 'fe80::1%zone']).stdout) as unknown;
    expect(there).toMatchObject({ error: { code: 'ENXIO', syscall: 'uv_if_indextoiid' } });
    const stack = new Stack('vdestack', 'null://');
    try {
      stack.linkSetUpDown('lo', true);
      stack.linkSetUpDown('vde0', true);
      stack.ipAddrAdd('fe80::1', 64, 'vde0', { nodad: true });
      expect(await gone(stack.dgram, 'fe80::1%vde0', () => stack.ipLinkDel('vde0'))).toEqual(there);
    } finally {
      stack.close({ linger: 0 });
    }
  });

  test("an unref'd socket lets the program end, a ref'd one holds it until its datagram, a throwing listener is uncaught", () => {
    for (const args of [['unref'], ['ref', 'fe80::1%zone'], ['throw', 'fe80::1%zone']]) {
      const [there, here] = [natively(args), hooked(args)];
      const shown = (r: typeof there) => ({
        status: r.status, signal: r.signal, stdout: r.stdout.replace(/"port":\d+/, '"port":N'),
        thrown: /^Error: .*$/m.exec(r.stderr)?.[0] ?? null,
      });
      expect({ args, ...shown(here) }).toEqual({ args, ...shown(there) });
    }
    expect(natively(['ref', 'fe80::1%zone']).stdout).toMatch(/"text":"late","family":"IPv6","zoned":true/);
    expect(natively(['throw', 'fe80::1%zone'])).toMatchObject({ status: 1, stderr: expect.stringContaining('Error: thrown at late') });
  });
});
