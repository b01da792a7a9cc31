// The vdebridge helper's tap offloads (addon/vdebridge/offload.c): the namespace's kernel hands the
// helper TCP segments of up to 64 KB (TSO) that the helper cuts to the link's MTU, and the helper
// coalesces in-order segments into GSO frames for the tap (GRO). Checked against peers that take
// standard frames only: libioth's vdestack (no offloads on its tap) and a vde_switch, which keeps
// frames in 1504-byte buffers, so an oversize frame does not cross it. Counters of the taps, read
// inside the helpers' namespaces, show that the offloads were used. What the kernel could hand the
// helper is fuzzed in C, with the sanitizers (test/fixtures/vdebridge-offload-fuzz.c).
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from '../../src';
import { vxvdeGroup } from '../helpers/netns';
import { once } from '../helpers/network';
import { childrenOf, isAlive } from '../helpers/procs';
import { until } from '../helpers/until';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The helper (its pid) that a stack made just now: the new child of this process. */
function newStack(plugin: string, vnl: string): { stack: Stack; helper: number } {
  const before = childrenOf(process.pid);
  const stack = new Stack(plugin, vnl);
  const helpers = childrenOf(process.pid).filter((c) => !before.includes(c));
  expect(helpers).toHaveLength(1);
  return { stack, helper: helpers[0] };
}

/** A command inside a helper's network namespace. */
const inNs = (pid: number, cmd: string[]): string => execFileSync('nsenter', ['-t', String(pid), '-n', ...cmd], { encoding: 'utf8' });

/** The tap's packet counters as its namespace's kernel counts them. */
function counters(pid: number, iface = 'vde0'): { tx: number; rx: number } {
  const [link] = JSON.parse(inNs(pid, ['ip', '-s', '-j', 'link', 'show', iface])) as Array<{ stats64: { rx: { packets: number }; tx: { packets: number } } }>;
  return { tx: link.stats64.tx.packets, rx: link.stats64.rx.packets };
}

async function configure(stack: Stack, n: number, mtu: number): Promise<void> {
  await stack.configAsync(`eth,ip=10.0.0.${n}/24,ip=fd00::${n}/64,mtu=${mtu}`);
}

/** `bytes` random bytes from `from` to a server on `to`, which sends them back: SHA-256 of both. */
interface Echoed { sent: string; back: string; length: number }
async function echo(to: Stack, from: Stack, host: string, bytes: number): Promise<Echoed> {
  const srv = to.net.createServer((s) => s.pipe(s));
  srv.listen(0, host);
  await once(srv, 'listening');
  try {
    const payload = randomBytes(bytes);
    const socket = from.net.connect((srv.address() as net.AddressInfo).port, host);
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.end(payload);
    await once(socket, 'close', 40000);
    const back = Buffer.concat(chunks);
    return { sent: sha256(payload), back: sha256(back), length: back.length };
  } finally {
    srv.close();
  }
}

test('the tap offers TCP segmentation and checksums, not UDP segmentation', () => {
  const { stack, helper } = newStack('vdebridge', 'null://');
  try {
    const features = inNs(helper, ['ethtool', '-k', 'vde0']);
    const on = (name: string): string | undefined => new RegExp(`^\\s*${name}: (on|off)`, 'm').exec(features)?.[1];
    expect(on('tx-checksumming')).toBe('on');
    expect(on('tx-tcp-segmentation')).toBe('on');
    expect(on('tx-tcp6-segmentation')).toBe('on');
    expect(on('tx-udp-segmentation')).toBe('off');
    expect(on('tx-udp-fragmentation') ?? 'off').toBe('off');
  } finally {
    stack.close();
  }
});

describe.each([1500, 9000])('vdebridge and vdestack over vxvde at MTU %d', (mtu) => {
  let bridge: { stack: Stack; helper: number };
  let peer: { stack: Stack; helper: number };
  beforeAll(async () => {
    const group = vxvdeGroup();
    bridge = newStack('vdebridge', group);
    peer = newStack('vdestack', group);
    await Promise.all([configure(bridge.stack, 1, mtu), configure(peer.stack, 2, mtu)]);
  });
  afterAll(() => { peer?.stack.close(); bridge?.stack.close(); });

  test.each([['10.0.0.2', '10.0.0.1'], ['fd00::2', 'fd00::1']])('16 MiB each way to %s, SHA-256 equal; TSO and GRO used', async (peerIp, bridgeIp) => {
    const b0 = counters(bridge.helper), p0 = counters(peer.helper);
    const r1 = await echo(peer.stack, bridge.stack, peerIp, 16 << 20);
    const r2 = await echo(bridge.stack, peer.stack, bridgeIp, 16 << 20);
    expect(r1).toEqual({ sent: r1.sent, back: r1.sent, length: 16 << 20 });
    expect(r2).toEqual({ sent: r2.sent, back: r2.sent, length: 16 << 20 });
    const b1 = counters(bridge.helper), p1 = counters(peer.helper);
    // The peer's tap counts standard frames; the bridge's counts the kernel's (GSO) frames.
    expect(p1.rx - p0.rx).toBeGreaterThan(2 * (b1.tx - b0.tx));
    expect(p1.tx - p0.tx).toBeGreaterThan(2 * (b1.rx - b0.rx));
  });

  test('8 connections at once, each way, small writes and large: every byte in order', async () => {
    const runs = Array.from({ length: 8 }, (_, i) => i % 2
      ? echo(peer.stack, bridge.stack, '10.0.0.2', (1 << 20) + i * 4099)
      : echo(bridge.stack, peer.stack, 'fd00::1', (1 << 20) + i * 4099));
    for (const r of await Promise.all(runs)) expect(r.back).toBe(r.sent);
    // Request and response, one small segment each (PSH on every one): nothing merged wrongly.
    const srv = bridge.stack.net.createServer((s) => s.on('data', (d) => s.write(d)));
    srv.listen(0, '10.0.0.1');
    await once(srv, 'listening');
    const c = peer.stack.net.connect((srv.address() as net.AddressInfo).port, '10.0.0.1');
    try {
      for (let i = 0; i < 200; i++) {
        const msg = `message ${i} `.repeat(1 + (i % 7));
        const back = once<Buffer>(c, 'data');
        c.write(msg);
        expect((await back)[0].toString()).toBe(msg);
      }
    } finally {
      c.destroy();
      srv.close();
    }
  });

  test.each([4, 6] as const)('UDP still works, large datagrams too (IPv%d)', async (family) => {
    const [ipA, ipB] = family === 4 ? ['10.0.0.1', '10.0.0.2'] : ['fd00::1', 'fd00::2'];
    const a = bridge.stack.dgram.createSocket(`udp${family}`);
    const b = peer.stack.dgram.createSocket(`udp${family}`);
    try {
      a.bind(0, ipA);
      b.bind(0, ipB);
      await Promise.all([once(a, 'listening'), once(b, 'listening')]);
      const small = randomBytes(100), big = randomBytes(20000); // big: IP fragments
      const atB: Buffer[] = [];
      b.on('message', (m) => atB.push(m));
      a.send(small, b.address().port, ipB);
      a.send(big, b.address().port, ipB);
      await until('both datagrams at the peer', () => atB.length === 2, { timeout: 5000 });
      expect(atB.map(sha256)).toEqual([sha256(small), sha256(big)]);
      const atA = once<Buffer>(a, 'message');
      b.send(big, a.address().port, ipA);
      expect(sha256((await atA)[0])).toBe(sha256(big));
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('through a vde_switch (frames over 1504 bytes do not cross it)', () => {
  let dir: string;
  let sw: ChildProcess;
  let bridge: Stack;
  let peer: Stack;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-offload-'));
    sw = spawn('vde_switch', ['-s', `${dir}/sw`], { stdio: ['pipe', 'ignore', 'inherit'] });
    await until('the switch', () => fs.existsSync(`${dir}/sw/ctl`), { timeout: 5000 });
    bridge = new Stack('vdebridge', `vde://${dir}/sw`);
    peer = new Stack('vdestack', `vde://${dir}/sw`);
    await Promise.all([configure(bridge, 1, 1500), configure(peer, 2, 1500)]);
  });
  afterAll(() => {
    peer?.close();
    bridge?.close();
    sw?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each([['10.0.0.2', '10.0.0.1'], ['fd00::2', 'fd00::1']])('8 MiB each way to %s and back, SHA-256 equal', async (peerIp, bridgeIp) => {
    const r1 = await echo(peer, bridge, peerIp, 8 << 20);
    const r2 = await echo(bridge, peer, bridgeIp, 8 << 20);
    expect(r1.back).toBe(r1.sent);
    expect(r2.back).toBe(r2.sent);
  });

  test('the link\'s MTU lowered while data flows: still every byte, in frames that fit', async () => {
    const lowered = echo(peer, bridge, '10.0.0.2', 8 << 20);
    await new Promise((r) => setTimeout(r, 50));
    bridge.linkSetMtu('vde0', 1280);
    const r = await lowered;
    expect(r.back).toBe(r.sent);
    bridge.linkSetMtu('vde0', 1500);
  });
});

test('fuzzed GSO frames: no memory error, every segment within the MTU, merges made', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-offload-fuzz-'));
  try {
    const root = path.resolve(__dirname, '..', '..');
    const bin = path.join(dir, 'fuzz');
    execFileSync('cc', ['-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-I', path.join(root, 'addon', 'vdebridge'),
      '-o', bin, path.join(root, 'test', 'fixtures', 'vdebridge-offload-fuzz.c'), path.join(root, 'addon', 'vdebridge', 'offload.c')]);
    const [ok, segments, merges] = execFileSync(bin, ['6000', String(process.pid)], { encoding: 'utf8', timeout: 60000 }).trim().split(' ');
    expect(ok).toBe('ok');
    expect(Number(segments)).toBeGreaterThan(10000);
    expect(Number(merges)).toBeGreaterThan(1000);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 90000);

test('with a process under vdens at MTU 1500: 8 MiB each way at once, both SHA-256 equal (IPv4 and IPv6)', async () => {
  // vdens bridges a plain tap: the standard VDE peer. The server under vdens sends its own bytes back
  // as it reads ours, so both directions run at once, through our segmentation and our coalescing.
  const group = vxvdeGroup();
  const bridge = new Stack('vdebridge', group);
  const peerCode = `
    const net = require('node:net'), { createHash, randomBytes } = require('node:crypto');
    const data = randomBytes(8 << 20);
    const srv = net.createServer((s) => {
      const got = [];
      s.on('data', (d) => got.push(d));
      s.on('end', () => console.log(JSON.stringify({ sent: createHash('sha256').update(data).digest('hex'),
        got: createHash('sha256').update(Buffer.concat(got)).digest('hex') })));
      s.end(data);
    });
    srv.listen(7100, '::', () => console.log('ready'));`;
  const shell = 'ip link set lo up && ip link set vde0 up && ip addr add 10.0.0.2/24 dev vde0 && ' +
    'ip addr add fd00::2/64 dev vde0 nodad && exec "$NODE" -e "$PEER"';
  const child = spawn('vdens', [group, 'bash', '-c', shell], { detached: true, stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PEER: peerCode, NODE: process.execPath } });
  try {
    await configure(bridge, 1, 1500);
    const lines: string[] = [];
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) lines.push(buf.slice(0, i));
    });
    await until('the peer under vdens', () => lines.includes('ready'), { timeout: 15000 });
    for (const host of ['10.0.0.2', 'fd00::2']) {
      const data = randomBytes(8 << 20);
      const got: Buffer[] = [];
      const socket = bridge.net.connect(7100, host);
      socket.on('data', (d) => got.push(d));
      socket.end(data);
      await once(socket, 'close', 40000);
      await until('the peer\'s report', () => lines.length >= 2, { timeout: 10000 });
      const theirs = JSON.parse(lines.pop()!) as { sent: string; got: string };
      expect(theirs.got).toBe(sha256(data));
      expect(sha256(Buffer.concat(got))).toBe(theirs.sent);
    }
  } finally {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
    bridge.close();
  }
}, 90000);

describe('a peer sending garbage frames', () => {
  let plug: ChildProcess;
  let bridge: { stack: Stack; helper: number };
  let peer: Stack;
  const group = vxvdeGroup();
  beforeAll(async () => {
    bridge = newStack('vdebridge', group);
    peer = new Stack('vdestack', group);
    await Promise.all([configure(bridge.stack, 1, 1500), configure(peer, 2, 1500)]);
    // vde_plug with one VNL: frames on its stdin, each after its length (2 bytes, big-endian).
    plug = spawn('vde_plug', [group], { stdio: ['pipe', 'ignore', 'inherit'] });
  });
  afterAll(() => { plug?.kill(); peer?.close(); bridge?.stack.close(); });

  /** Frames to the bridge's MAC address that look like TCP segments, broken in every field. */
  function garbage(mac: Buffer, src: Buffer): Buffer[] {
    const eth = (type: number) => Buffer.concat([mac, src, Buffer.from([type >> 8, type & 255])]);
    const tcp = (doff: number, flags: number, len: number) => {
      const t = randomBytes(len);
      t[12] = doff << 4;
      t[13] = flags;
      return t;
    };
    const ip4 = (ihl: number, tot: number, frag: number, body: Buffer) => {
      const h = Buffer.alloc(20);
      h[0] = 0x40 | ihl; h.writeUInt16BE(tot, 2); h.writeUInt16BE(frag, 6); h[8] = 64; h[9] = 6;
      Buffer.from([10, 0, 0, 2, 10, 0, 0, 1]).copy(h, 12);
      return Buffer.concat([eth(0x0800), h, body]);
    };
    const ip6 = (plen: number, nh: number, body: Buffer) => {
      const h = Buffer.alloc(40);
      h[0] = 0x60; h.writeUInt16BE(plen, 4); h[6] = nh; h[7] = 64;
      h[23] = 2; h[39] = 1; h[8] = 0xfd; h[24] = 0xfd;
      return Buffer.concat([eth(0x86dd), h, body]);
    };
    const out: Buffer[] = [];
    for (let i = 0; i < 200; i++) out.push(randomBytes(1 + (i * 37) % 1514));
    for (const len of [0, 1, 13, 14, 15, 33, 34, 53]) out.push(ip4(5, 40, 0, randomBytes(20)).subarray(0, len));
    for (const ihl of [0, 4, 5, 15]) {
      for (const tot of [0, 19, 40, 60000]) out.push(ip4(ihl, tot, 0, tcp(5, 0x10, 100)));
    }
    for (const doff of [0, 4, 5, 15]) {
      for (const flags of [0x10, 0x18, 0x02, 0x11, 0x14, 0xff]) out.push(ip4(5, 20 + 200, 0, tcp(doff, flags, 200)));
    }
    // A "flow" with bad checksums, then a fragment.
    for (let i = 0; i < 50; i++) out.push(ip4(5, 20 + 1400, 0x4000, tcp(8, 0x10, 1400)));
    out.push(ip4(5, 1420, 0x2000, tcp(5, 0x10, 1400)));
    for (const nh of [0, 43, 44, 60, 6]) {
      const body = Buffer.concat([Buffer.from([nh, 255]), randomBytes(1000)]);
      for (const plen of [0, 8, 20, 1000, 65535]) out.push(ip6(plen, nh, body));
    }
    return out;
  }

  test('the helper stays up and bridges as before', async () => {
    const mac = Buffer.from(bridge.stack.links().find((l) => l.name === 'vde0')!.mac!.split(':').map((h) => parseInt(h, 16)));
    const src = Buffer.from([0x02, 0, 0, 0, 0, 0x99]);
    const frames = garbage(mac, src).filter((f) => f.length > 0);
    const wire = Buffer.concat(frames.map((f) => Buffer.concat([Buffer.from([f.length >> 8, f.length & 255]), f])));
    const rx0 = counters(bridge.helper).rx;
    for (let round = 0; round < 3; round++) {
      await new Promise<void>((resolve) => plug.stdin!.write(wire, () => resolve()));
      const r = await echo(peer, bridge.stack, '10.0.0.2', 2 << 20);
      expect(r.back).toBe(r.sent);
    }
    expect(isAlive(bridge.helper)).toBe(true);
    // They did reach the tap (the helper passes what it cannot merge; its kernel judges them).
    expect(counters(bridge.helper).rx - rx0).toBeGreaterThanOrEqual(3 * frames.filter((f) => f.length >= 14).length);
  });
});
