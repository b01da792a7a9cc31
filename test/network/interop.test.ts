// Interoperability of vdebridge (iothts's own libioth plugin) with every kind of VDE peer, on every
// kind of VDE network: TCP both ways at once over two connections (one accepted on each side),
// every byte checked with SHA-256 at both ends.
// - peers: a process under `vdens` (its namespace's kernel stack, bridged by libvdeplug); a
//   namespace made here (`unshare -n`) holding a tap that `vde_plug tap://NAME VNL` bridges (the
//   vde_plug stays in this namespace so that vxvde's multicast reaches the others, and its tap is
//   moved into the peer's namespace with `ip link set NAME netns`); libioth's vdestack in this process.
// - networks: vxvde; a hub hosted by the vdebridge stack (`hub://`, peers join with `vde://`); a
//   `vde_switch` (vde2; both join with `vde://`); `ptp://`; slirp (the host's loopback, both ways).
// - MTU 1500 and 9000 where the network carries 9000 (not the switch), and 9000 against a peer at
//   1500 (TCP's MSS keeps the segments to the smaller MTU). Each side's receive counters show which
//   frames crossed: at 9000 the average frame is larger than any 1500-MTU frame (1514 bytes).
//   That the switch carries no jumbo frame is shown apart (a documented limit of vde2).
// - one VNL spanning two simulated hosts: two namespaces joined by a veth pair, vxvde over the veth
//   only, a vdebridge server in a Node process on host A, curl under vdens on host B.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Stack } from '../../src';
import { vxvdeGroup } from '../helpers/netns';
import { childrenOf } from '../helpers/procs';
import { type Report, sha, talk as talkBoth } from '../helpers/talk';
import { until } from '../helpers/until';

const BYTES = 4 << 20;
const ROOT = path.resolve(__dirname, '..', '..');
const PEER = path.join(__dirname, '..', 'fixtures', 'interop-peer.js');
/** The largest Ethernet frame at MTU 1500, as a receive counter counts it (no FCS). */
const STANDARD_FRAME = 1514;

const children: ChildProcess[] = [];
const stacks: Stack[] = [];
const dirs: string[] = [];
const handles: Array<net.Server | net.Socket> = [];
afterEach(() => {
  for (const h of handles.splice(0)) { if (h instanceof net.Socket) h.destroy(); else h.close(); }
  for (const c of children.splice(0).reverse()) { try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ } }
  for (const s of stacks.splice(0).reverse()) s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

interface Counters { bytes: number; packets: number }

/** Rejects with `what` if `p` has not settled within `ms`: a transfer that never happens fails. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

interface Started { child: ChildProcess; line(ms?: number): Promise<string> }

/** A detached child (its own process group, killed whole after the test) whose stdout is read by line. */
function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Started {
  const child = spawn(cmd, args, { cwd: ROOT, detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  readline.createInterface({ input: child.stdout! }).on('line', (l) => { lines.push(l); wake?.(); }).on('close', () => { ended = true; wake?.(); });
  const line = async (ms = 20000): Promise<string> => within((async () => {
    while (lines.length === 0) {
      if (ended) throw new Error(`${cmd} ended (exit ${child.exitCode}): ${err}`);
      await new Promise<void>((r) => { wake = r; });
    }
    return lines.shift()!;
  })(), ms, `a line from ${cmd} ${args.slice(0, 2).join(' ')} (stderr: ${err})`);
  return { child, line };
}

/** The line of `ifname` in /proc/PID/net/dev (the interfaces of that process's network namespace). */
function netDevLine(pid: number | 'self', ifname: string): string | undefined {
  return fs.readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').find((l) => l.trim().startsWith(`${ifname}:`));
}

/** The receive counters of `ifname` in the network namespace of process `pid`. */
function rxOf(pid: number, ifname: string): Counters {
  const line = netDevLine(pid, ifname);
  if (!line) throw new Error(`no ${ifname} in the namespace of process ${pid}`);
  const [bytes, packets] = line.slice(line.indexOf(':') + 1).trim().split(/\s+/).map(Number);
  return { bytes, packets };
}

/** A stack and its helper (the process in its network namespace). */
function stackWithHelper(plugin: 'vdebridge' | 'vdestack', vnl: string): { stack: Stack; helper: number } {
  const before = childrenOf(process.pid);
  const stack = new Stack(plugin, vnl);
  stacks.push(stack);
  const helpers = childrenOf(process.pid).filter((p) => !before.includes(p));
  expect(helpers).toHaveLength(1);
  return { stack, helper: helpers[0] };
}

function configure(stack: Stack, ip: string, mtu: number): void {
  stack.linkSetUpDown('lo', true);
  stack.linkSetMtu('vde0', mtu);
  stack.config(`eth,ip=${ip}/24`);
  expect(stack.linkGetMtu('vde0')).toBe(mtu);
}

/** Both directions on `socket`, BYTES each way; the socket is closed after the test. */
function talk(socket: net.Socket): Promise<Report> {
  handles.push(socket);
  return talkBoth(socket, BYTES);
}

/** Listens on `stack` at host:port; `accepted` settles with the talk on the first connection. */
async function listening(stack: Stack, port: number, host: string): Promise<{ accepted: Promise<Report> }> {
  const server = stack.net.createServer();
  handles.push(server);
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve); });
  return { accepted: new Promise<Report>((resolve, reject) => server.once('connection', (s) => { server.close(); talk(s).then(resolve, reject); })) };
}

type NetKind = 'vxvde' | 'hub' | 'switch' | 'ptp';

/** The VNLs of one network: ours (opened first) and the peer's. */
async function network(kind: NetKind): Promise<{ ours: string; theirs: string }> {
  if (kind === 'vxvde') { const g = vxvdeGroup(); return { ours: g, theirs: g }; }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `iothts-interop-${kind}-`));
  dirs.push(dir);
  if (kind === 'hub') return { ours: `hub://${dir}/hub`, theirs: `vde://${dir}/hub` };
  if (kind === 'ptp') return { ours: `ptp://${dir}/ptp`, theirs: `ptp://${dir}/ptp` };
  start('vde_switch', ['-s', `${dir}/sw`]); // its console on stdin, a pipe held open until it is killed
  await until('the vde_switch\'s control socket', () => fs.existsSync(`${dir}/sw/ctl`), { timeout: 5000, interval: 20 });
  return { ours: `vde://${dir}/sw`, theirs: `vde://${dir}/sw` };
}

type PeerKind = 'vdens' | 'vde_plug tap' | 'vdestack';

interface Peer {
  /** The peer's MTU as its interface reports it. */
  mtu: number;
  /** The connection the peer accepted and the one it made, then its interface's receive counters. */
  results(): Promise<{ accepted: Report; connected: Report; rx: Counters }>;
}

let taps = 0;

/**
 * Starts the peer at 10.0.0.2 on `vnl`: it listens on 7001 and connects to 10.0.0.1:7000 (ours,
 * listening already). Resolves once it listens.
 */
async function startPeer(kind: PeerKind, vnl: string, mtu: number): Promise<Peer> {
  if (kind === 'vdestack') {
    const { stack, helper } = stackWithHelper('vdestack', vnl);
    configure(stack, '10.0.0.2', mtu);
    const { accepted } = await listening(stack, 7001, '10.0.0.2');
    const connected = talk(stack.net.connect(7000, '10.0.0.1'));
    return {
      mtu: stack.linkGetMtu('vde0'),
      results: async () => ({ accepted: await accepted, connected: await connected, rx: rxOf(helper, 'vde0') }),
    };
  }
  // A process in a namespace of its own, set up by the same shell lines for both kinds.
  const shell = 'ip link set lo up && ip link set "$IF" mtu "$MTU" && ip link set "$IF" up && ' +
    'ip addr add 10.0.0.2/24 dev "$IF" && ip -o link show "$IF" | sed -n "s/.* mtu \\([0-9]*\\) .*/\\1/p" && ' +
    `exec "${process.execPath}" "${PEER}" 10.0.0.2 7001 10.0.0.1 7000 ${BYTES} "$IF"`;
  let peer: Started;
  if (kind === 'vdens') {
    peer = start('vdens', [vnl, 'bash', '-c', shell], { IF: 'vde0', MTU: String(mtu) });
  } else {
    const name = `itap${process.pid % 100000}x${taps++}`;
    const holder = start('unshare', ['-n', 'sleep', '600']); // the peer's namespace, held by this process
    start('vde_plug', [`tap://${name}`, vnl]);
    await until(`vde_plug's tap ${name}`, () => netDevLine('self', name), { timeout: 5000, interval: 10 });
    await until('the namespace of unshare -n', () => fs.readlinkSync(`/proc/${holder.child.pid}/ns/net`) !== fs.readlinkSync('/proc/self/ns/net'), { timeout: 5000, interval: 10 });
    execFileSync('ip', ['link', 'set', name, 'netns', String(holder.child.pid)]);
    peer = start('nsenter', ['-t', String(holder.child.pid), '-n', 'bash', '-c', shell], { IF: name, MTU: String(mtu) });
  }
  const peerMtu = Number(await peer.line());
  expect(await peer.line()).toBe('ready');
  return {
    mtu: peerMtu,
    results: async () => {
      const got: Record<string, Report> = {};
      for (let i = 0; i < 2; i++) {
        const r = JSON.parse(await peer.line(30000)) as Report;
        if (r.error) throw new Error(`the ${kind} peer's ${r.role} connection: ${r.error}`);
        got[r.role!] = r;
      }
      const { rx } = JSON.parse(await peer.line()) as { rx: Counters };
      return { accepted: got.accepted, connected: got.connected, rx };
    },
  };
}

const PEERS: PeerKind[] = ['vdens', 'vde_plug tap', 'vdestack'];
/** [peer, network, our MTU, the peer's MTU] */
const MATRIX: Array<[PeerKind, NetKind, number, number]> = [
  ...PEERS.flatMap((p) => (['vxvde', 'hub', 'switch', 'ptp'] as const).map((n): [PeerKind, NetKind, number, number] => [p, n, 1500, 1500])),
  ...PEERS.flatMap((p) => (['vxvde', 'hub', 'ptp'] as const).map((n): [PeerKind, NetKind, number, number] => [p, n, 9000, 9000])),
  ...PEERS.flatMap((p) => (['vxvde', 'hub', 'ptp'] as const).map((n): [PeerKind, NetKind, number, number] => [p, n, 9000, 1500])),
];

test.each(MATRIX)('vdebridge and %s on %s, MTU %d against %d: TCP both ways, a server on each side', async (peerKind, netKind, ourMtu, peerMtu) => {
  const vnls = await network(netKind);
  const { stack: ours, helper } = stackWithHelper('vdebridge', vnls.ours);
  configure(ours, '10.0.0.1', ourMtu);
  const { accepted } = await listening(ours, 7000, '10.0.0.1');
  const peer = await startPeer(peerKind, vnls.theirs, peerMtu);
  expect(peer.mtu).toBe(peerMtu);
  const connected = talk(ours.net.connect(7001, '10.0.0.2'));
  const [mine, theirs] = await within(Promise.all([Promise.all([accepted, connected]), peer.results()]), 40000, 'the transfers');
  const [myAccepted, myConnected] = mine;
  // What each side sent is what the other received, whole, on both connections.
  for (const [a, b] of [[myAccepted, theirs.connected], [myConnected, theirs.accepted]]) {
    expect(a.bytes).toBe(BYTES);
    expect(b.bytes).toBe(BYTES);
    expect(a.received).toBe(b.sent);
    expect(b.received).toBe(a.sent);
  }
  const avg = (c: Counters): number => c.bytes / c.packets;
  const myRx = rxOf(helper, 'vde0');
  expect(theirs.rx.packets).toBeGreaterThan(0);
  if (ourMtu === 9000 && peerMtu === 9000) {
    // Jumbo frames crossed the network in each direction.
    expect(avg(theirs.rx)).toBeGreaterThan(STANDARD_FRAME);
    expect(avg(myRx)).toBeGreaterThan(STANDARD_FRAME);
  } else {
    // What we sent stayed within the standard frame: the peer's (or the network's) MTU held.
    expect(avg(theirs.rx)).toBeLessThanOrEqual(STANDARD_FRAME);
  }
}, 60000);

describe('slirp: vdebridge and the host\'s loopback', () => {
  /** Our stack on `vnl` at slirp's usual guest address, its gateway slirp (10.0.2.2, the host's loopback). */
  function onSlirp(vnl: string): Stack {
    const { stack } = stackWithHelper('vdebridge', vnl);
    stack.config('eth,ip=10.0.2.15/24,gw=10.0.2.2');
    return stack;
  }

  function expectExchanged(a: Report, b: Report): void {
    expect(a.bytes).toBe(BYTES);
    expect(b.bytes).toBe(BYTES);
    expect(a.received).toBe(b.sent);
    expect(b.received).toBe(a.sent);
  }

  test('the stack connects to a server on the host\'s 127.0.0.1 at 10.0.2.2: TCP both ways', async () => {
    const ours = onSlirp('slirp://');
    const server = net.createServer();
    handles.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const accepted = new Promise<[Report, string]>((resolve, reject) => server.once('connection', (s) => {
      const from = s.remoteAddress!;
      talk(s).then((r) => resolve([r, from]), reject);
    }));
    const connected = talk(ours.net.connect((server.address() as net.AddressInfo).port, '10.0.2.2'));
    const [[theirs, from], mine] = await within(Promise.all([accepted, connected]), 30000, 'the transfers through slirp');
    expectExchanged(mine, theirs);
    expect(from).toBe('127.0.0.1'); // slirp's NAT: the host sees a loopback peer
  }, 60000);

  test('the host\'s 127.0.0.1 reaches a server on the stack through slirp\'s tcpfwd: TCP both ways', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const ours = onSlirp(`slirp:///tcpfwd=127.0.0.1:${port}:10.0.2.15:7000`);
    const server = ours.net.createServer();
    handles.push(server);
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(7000, '10.0.2.15', resolve); });
    const accepted = new Promise<Report>((resolve, reject) => server.once('connection', (s) => { talk(s).then(resolve, reject); }));
    const connected = talk(net.connect(port, '127.0.0.1'));
    const [mine, theirs] = await within(Promise.all([accepted, connected]), 30000, 'the transfers through slirp');
    expectExchanged(mine, theirs);
  }, 60000);
});

test('one vxvde network over two simulated hosts joined by a veth pair: curl under vdens on B, a vdebridge server on A', async () => {
  // Two namespaces inside this run's private one, each with lo and one end of a veth pair, the
  // multicast route on the veth: vxvde's datagrams can only cross between them over the veth.
  const hosts = [start('unshare', ['-n', 'sleep', '600']), start('unshare', ['-n', 'sleep', '600'])].map((h) => String(h.child.pid));
  const self = fs.readlinkSync('/proc/self/ns/net');
  await until('the two namespaces', () => hosts.every((pid) => fs.readlinkSync(`/proc/${pid}/ns/net`) !== self), { timeout: 5000, interval: 10 });
  const ends = [`iva${process.pid % 100000}`, `ivb${process.pid % 100000}`];
  execFileSync('ip', ['link', 'add', ends[0], 'type', 'veth', 'peer', 'name', ends[1]]);
  hosts.forEach((pid, i) => {
    execFileSync('ip', ['link', 'set', ends[i], 'netns', pid]);
    execFileSync('nsenter', ['-t', pid, '-n', 'sh', '-c', `ip link set lo up && ip link set ${ends[i]} up && ` +
      `ip addr add 192.168.77.${i + 1}/24 dev ${ends[i]} && ip route add 224.0.0.0/4 dev ${ends[i]}`]);
  });
  const group = vxvdeGroup();
  const server = start('nsenter', ['-t', hosts[0], '-n', process.execPath, path.join(__dirname, '..', 'fixtures', 'interop-http.js'), `${group}/if=${ends[0]}`, String(BYTES)]);
  const { sha: served } = JSON.parse(await server.line()) as { sha: string };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-interop-2hosts-'));
  dirs.push(dir);
  const upload = randomBytes(BYTES);
  fs.writeFileSync(path.join(dir, 'upload'), upload);
  const shell = 'ip link set vde0 up && ip addr add 10.0.0.2/24 dev vde0 && ' +
    'curl -sS -m 20 http://10.0.0.1:8080/ | sha256sum | cut -d" " -f1 && curl -sS -m 20 -T "$UPLOAD" http://10.0.0.1:8080/up';
  const client = start('nsenter', ['-t', hosts[1], '-n', 'vdens', `${group}/if=${ends[1]}`, 'bash', '-c', shell], { UPLOAD: path.join(dir, 'upload') });
  expect(await client.line(30000)).toBe(served); // A to B
  expect(await client.line(30000)).toBe(sha(upload)); // B to A
  // All of it crossed the veth: host A's end received more than what B uploaded.
  expect(rxOf(Number(hosts[0]), ends[0]).bytes).toBeGreaterThan(BYTES);
}, 60000);

// Outside iothts: vde2's vde_switch keeps each frame in a 1504-byte buffer, so jumbo frames do not
// cross it (measured here with vdebridge and vdestack both at MTU 9000; the hub carries them): hence
// no MTU 9000 rows for the switch in the matrix.
test.each([['switch', false], ['hub', true]] as const)('at MTU 9000, a %s carries a datagram in one 8000-byte frame: %s', async (kind, carried) => {
  const vnls = await network(kind);
  const { stack: ours } = stackWithHelper('vdebridge', vnls.ours);
  configure(ours, '10.0.0.1', 9000);
  const { stack: peer } = stackWithHelper('vdestack', vnls.theirs);
  configure(peer, '10.0.0.2', 9000);
  const receiver = peer.dgram.createSocket('udp4');
  const sender = ours.dgram.createSocket('udp4');
  try {
    const sizes: number[] = [];
    receiver.on('message', (m) => sizes.push(m.length));
    await new Promise<void>((r) => receiver.bind(7002, '10.0.0.2', r));
    const send = (size: number): Promise<void> => new Promise((resolve, reject) => sender.send(Buffer.alloc(size), 7002, '10.0.0.2', (e) => (e ? reject(e) : resolve())));
    await send(1400); // the first also resolves the peer's MAC address
    await until('the first 1400-byte datagram', () => sizes.length === 1, { timeout: 5000, interval: 10 });
    // Then, in order on one FIFO path: once the small one is in, the large one would have been.
    await send(8000);
    await send(1400);
    await until('the second 1400-byte datagram', () => sizes.filter((n) => n === 1400).length === 2, { timeout: 5000, interval: 10 });
    expect(sizes).toEqual(carried ? [1400, 8000, 1400] : [1400, 1400]);
  } finally {
    sender.close();
    receiver.close();
  }
});
