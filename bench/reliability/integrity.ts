// Integrity: BYTES in each direction at once over one TCP connection between two iothts stacks on
// vxvde, every byte hashed with SHA-256 on both sides; optionally through a lossy, reordering link.
//
//   node dist/bench/reliability/integrity.js [--mib 1024] [--loss 5] [--delay 1+1] [--timeout S]
//
// With --loss, A's stack hosts a hub and B's is on a vxvde group; VDE's own wire emulator joins
// them: `wirefilter -N -l LOSS -d DELAY -v HUBPATH:vxvde://B`. wirefilter drops LOSS % of the
// frames in each direction; -d 1+1 gives each frame its own random extra delay of 0-2 ms, and -N
// (no FIFO) lets a frame delayed less overtake one delayed more: that is the reordering. (Linux's
// netem qdisc would do the same on the namespace's lo, but needs CONFIG_NET_SCH_NETEM, which not
// every kernel has: wirefilter needs nothing from the kernel.)
// wirefilter opens both networks itself, with no byte stream in between, for two reasons found
// the hard way with vde2 2.3.2 (src/wirefilter.c): (1) with both sides on stdio
// (`dpipe vde_plug A = wirefilter = vde_plug B`) it corrupts frames: its reassembly buffer is
// declared `fragment[BUFSIZE][2]` and indexed `fragment[dir]`, so the two directions' buffers
// overlap 2 bytes apart (measured: 16 to 59 TcpInCsumErrors per 16 MiB each way, even with no
// loss set, and TCP sometimes stuck in retransmission back-off); (2) with any side on stdio, it and
// vde_plug can each block writing into the other's full pipe, and the link stops for good (seen
// under load: both blocked in write(), both TCP ends at back-off 7).
// Before the transfer a UDP probe of numbered datagrams measures the loss and reordering the link
// really does, so a run cannot pass on a link that injects nothing.
//
// Must run inside the private network namespace (scripts/in-private-netns.sh; npm run soak does).
import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from 'iothts';

const MIB = 1024 * 1024;

export interface Link {
  vnlA: string;
  vnlB: string;
  /** Starts what joins A and B, once A's stack exists (it hosts A's hub). */
  connect(): Promise<void>;
  close(): Promise<void>;
  children: ChildProcess[];
}

let groups = 0;
function newGroup(): string {
  return `vxvde://234.98.${process.pid & 255}.${(++groups * 16 + (process.pid >> 8)) % 250 + 1}`;
}

/**
 * A hub (hosted by A's stack) and a vxvde group (B's) joined by wirefilter: loss %, delay
 * "ms+jitter", no FIFO (reordering). wirefilter opens both networks itself (`-v PATH:VNL`).
 */
export function lossyLink(loss: number, delay = '1+1'): Link {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-wirefilter-'));
  const vnlB = newGroup();
  const children: ChildProcess[] = [];
  let err = '';
  return {
    vnlA: `hub://${dir}/hub`, vnlB, children,
    async connect() {
      // -v splits its argument at the first ':', so the hub goes first, as a plain path. With two
      // plugs wirefilter also wants a console on stdin and ends when it closes: keep it open.
      const child = spawn('wirefilter', ['-N', '-l', String(loss), '-d', delay, '-v', `${dir}/hub:${vnlB}`],
        { stdio: ['pipe', 'ignore', 'pipe'] });
      children.push(child);
      child.stderr!.on('data', (d) => { err += d; });
      await new Promise((r) => setTimeout(r, 300));
      if (child.exitCode !== null) throw new Error(`wirefilter exited ${child.exitCode}: ${err}`);
    },
    close: async () => {
      for (const child of children) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 2000).unref();
        });
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
    toString: () => err,
  } as Link;
}

export function directLink(): Link {
  const vnl = newGroup();
  return { vnlA: vnl, vnlB: vnl, children: [], connect: async () => {}, close: async () => {} };
}

export function stackOn(vnl: string, ip: string): Stack {
  const stack = new Stack('vdestack', vnl);
  stack.linkSetUpDown('lo', true);
  stack.linkSetUpDown('vde0', true);
  stack.ipAddrAdd(ip, 24, 'vde0');
  return stack;
}

/** Sends `count` numbered datagrams from a to b, 1 ms apart; counts what arrives and in which order. */
export async function probe(
  a: Stack, b: Stack, bIp: string, count = 1000,
): Promise<{ sent: number; received: number; lossPct: number; reordered: number; duplicated: number }> {
  const rx = b.dgram.createSocket('udp4');
  const tx = a.dgram.createSocket('udp4');
  const seen = new Set<number>();
  let last = -1;
  let reordered = 0;
  let duplicated = 0;
  rx.on('message', (m) => {
    const n = m.readUInt32BE(0);
    if (seen.has(n)) duplicated++;
    seen.add(n);
    if (n < last) reordered++;
    last = Math.max(last, n);
  });
  await new Promise<void>((r) => rx.bind(9999, bIp, r));
  // Prime ARP first so that the probe measures the link, not neighbour discovery.
  for (let i = 0; i < 20 && seen.size === 0; i++) {
    tx.send(Buffer.from([0xff, 0xff, 0xff, 0xff]), 9999, bIp);
    await new Promise((r) => setTimeout(r, 50));
  }
  seen.clear();
  last = -1;
  for (let i = 0; i < count; i++) {
    const m = Buffer.alloc(64);
    m.writeUInt32BE(i, 0);
    tx.send(m, 9999, bIp);
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 500));
  rx.close();
  tx.close();
  const received = [...seen].filter((n) => n < count).length;
  return { sent: count, received, lossPct: +((1 - received / count) * 100).toFixed(1), reordered, duplicated };
}

/** A block generator: a random 1 MiB base, each block rotated and numbered differently. */
function blocks(seed: Buffer) {
  return (i: number): Buffer => {
    const out = Buffer.allocUnsafe(MIB);
    const shift = (i * 4099) % MIB;
    seed.copy(out, 0, shift);
    seed.copy(out, MIB - shift, 0, shift);
    out.writeUInt32BE(i, 0);
    return out;
  };
}

export interface TransferResult {
  bytesEachWay: number;
  aToB: { sent: string; received: string; bytes: number };
  bToA: { sent: string; received: string; bytes: number };
  identical: boolean;
  seconds: number;
  mbPerSecondEachWay: number;
}

/**
 * `mib` MiB from a to b and from b to a at the same time over one connection; each side hashes
 * what it sends and what it receives. Rejects after `timeoutMs`.
 */
export async function transfer(
  a: Stack, aIp: string, b: Stack, mib: number, timeoutMs: number,
): Promise<TransferResult> {
  const total = mib * MIB;
  const makeA = blocks(randomBytes(MIB));
  const makeB = blocks(randomBytes(MIB));
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const sockets: net.Socket[] = [];
  const pump = (s: net.Socket, make: (i: number) => Buffer): Promise<string> => (async () => {
    const h = createHash('sha256');
    for (let i = 0; i < mib; i++) {
      const block = make(i);
      h.update(block);
      if (!s.write(block)) {
        await new Promise<void>((resolve, reject) => {
          const onClose = () => reject(new Error(`connection closed while sending block ${i}`));
          s.once('close', onClose);
          s.once('drain', () => { s.off('close', onClose); resolve(); });
        });
      }
    }
    s.end();
    return h.digest('hex');
  })();
  const drain = (s: net.Socket): Promise<{ hash: string; bytes: number }> => new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let bytes = 0;
    s.on('data', (d: Buffer) => { h.update(d); bytes += d.length; });
    s.once('end', () => resolve({ hash: h.digest('hex'), bytes }));
    s.once('error', reject);
  });
  // Both directions end independently: each side half-closes when it has sent everything.
  const server = a.net.createServer({ allowHalfOpen: true });
  // The bound covers the connection's setup too: a SYN lost on the way stalls there, not later.
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`transfer of ${mib} MiB each way not done in ${timeoutMs} ms`)), timeoutMs);
  });
  expired.catch(() => {}); // seen by whichever race is under way; never an unhandled rejection
  const bounded = <T>(p: Promise<T>): Promise<T> => Promise.race([p, expired]);
  try {
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(7070, aIp, resolve); });
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    const client = b.net.connect({ port: 7070, host: aIp, allowHalfOpen: true });
    sockets.push(client);
    await bounded(new Promise<void>((resolve, reject) => { client.once('connect', resolve); client.once('error', reject); }));
    const peer = await bounded(accepted);
    sockets.push(peer);
    const work = Promise.all([pump(peer, makeA), drain(client), pump(client, makeB), drain(peer)]);
    const [sentA, gotB, sentB, gotA] = await bounded(work);
    const seconds = (Date.now() - started) / 1000;
    return {
      bytesEachWay: total,
      aToB: { sent: sentA, received: gotB.hash, bytes: gotB.bytes },
      bToA: { sent: sentB, received: gotA.hash, bytes: gotA.bytes },
      identical: sentA === gotB.hash && sentB === gotA.hash && gotA.bytes === total && gotB.bytes === total,
      seconds: +seconds.toFixed(1),
      mbPerSecondEachWay: +((total / 1e6) / seconds).toFixed(1),
    };
  } finally {
    clearTimeout(timer);
    for (const s of sockets) s.destroy();
    server.close();
  }
}

/** One full run: a link (direct or lossy), two stacks, the probe when lossy, the transfer. */
export async function integrityRun(mib: number, loss: number, timeoutMs: number, delay = '1+1') {
  const link = loss > 0 ? lossyLink(loss, delay) : directLink();
  const a = stackOn(link.vnlA, '10.8.0.1');
  const b = stackOn(link.vnlB, '10.8.0.2');
  try {
    await link.connect();
    const linkProbe = loss > 0 ? await probe(b, a, '10.8.0.1') : null;
    const result = await transfer(a, '10.8.0.1', b, mib, timeoutMs);
    return { mib, loss, delay: loss > 0 ? delay : null, link: loss > 0 ? 'hub + wirefilter -N + vxvde' : 'vxvde', probe: linkProbe, ...result };
  } finally {
    a.close();
    b.close();
    await link.close();
  }
}

if (require.main === module) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i < 0 ? fallback : process.argv[i + 1];
  };
  if (process.env.IOTHTS_PRIVATE_NETNS !== 'inside') {
    console.error('integrity: run it inside scripts/in-private-netns.sh (npm run soak does): it uses vxvde');
    process.exit(2);
  }
  const mib = Number(arg('mib', '1024'));
  const loss = Number(arg('loss', '0'));
  integrityRun(mib, loss, Number(arg('timeout', '1800')) * 1000, arg('delay', '1+1')).then((r) => {
    console.log(JSON.stringify(r));
    process.exit(r.identical ? 0 : 1);
  }, (err) => {
    console.error(`integrity: ${err instanceof Error ? err.stack : err}`);
    process.exit(1);
  });
}
