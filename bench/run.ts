// npm run bench: iothts against native Node and against vdens, in one run on one machine.
// Runs inside a private network namespace (scripts/in-private-netns.sh), so vxvde stays local.
//
// Every network case runs the same plain Node programs (bench/peer.ts, bench/http-server.ts, and
// autocannon as the HTTP client), server and client each a process, in three setups:
//   (a) native  both on the namespace's loopback;
//   (b) vdens   both whole-process under `vdens vxvde://GROUP` (each its own kernel namespace,
//               bridged to the VDE network by vdens), addresses 10.0.0.1 and 10.0.0.2/24;
//   (c) iothts  both under `node --import iothts/register` (IOTH_VNL=vxvde://GROUP,
//               IOTH_CONFIG=eth,ip=...), on the same kind of network.
// Cases: HTTP keep-alive req/s and p99, bulk TCP (SHA-256 checked) at MTU 1500 and at MTU 9000 on
// the virtual links, new TCP connections/s, UDP request/response datagrams/s; and, for iothts
// only, stack creation/deletion time and memory per stack (bench/stacks.ts), and the cost of one
// socket (bench/sockets.ts); and the hook's startup cost: `node -e 0` under it against native;
// and (c)'s HTTP case with its server in a scope (stack.run) against without.
//
// Prints a Markdown table with the machine; writes bench/results.json, bench/results.md,
// bench/results.svg (a bar chart of the ratios) and the results section of BENCHMARKS.md.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BULK_MIB = Number(process.env.BENCH_BULK_MIB ?? 1024);
// At MTU 1500 the virtual setups move 25 to 55 MB/s here: 1 GiB would take half of the ten-minute
// budget on its own, so that row moves a quarter of it (the rate is steady after the first MiB).
const BULK_1500_MIB = Number(process.env.BENCH_BULK_1500_MIB ?? Math.max(1, Math.round(BULK_MIB / 4)));
const STACKS = Number(process.env.BENCH_STACKS ?? 100);
const STARTUPS = Number(process.env.BENCH_STARTUPS ?? 40);
const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10000);
const BIG_MTU = 9000;
const CONNECTIONS = 16;
const CONN_CONCURRENCY = 8;
const UDP_CONCURRENCY = 16;
const root = path.resolve(__dirname, '..', '..');
const dist = path.join(root, 'dist', 'bench');
const autocannon = path.join(root, 'node_modules', 'autocannon', 'autocannon.js');
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;

if (process.env.IOTHTS_PRIVATE_NETNS !== 'inside') {
  console.error('bench: run it with `npm run bench` (it needs the private network namespace)');
  process.exit(2);
}

// BENCH_VDEBRIDGE=1 adds (d): (c) on iothts's own plugin, vdebridge (IOTH_STACK=vdebridge), as a
// column of its own; the stack rows then measure it too.
type Setup = 'native' | 'vdens' | 'iothts' | 'vdebridge';
const VDEBRIDGE = process.env.BENCH_VDEBRIDGE === '1';
const SETUPS: Setup[] = VDEBRIDGE ? ['native', 'vdens', 'iothts', 'vdebridge'] : ['native', 'vdens', 'iothts'];
let group = 0;
const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Command { argv: string[]; env?: NodeJS.ProcessEnv }

/**
 * `argv` (a node program) as it runs in `setup`, at `ip` on the network `vnl` with `mtu` on its
 * virtual link. (a) ignores ip, vnl and mtu: everything is on 127.0.0.1.
 */
function inSetup(setup: Setup, vnl: string, ip: string, mtu: number, argv: string[]): Command {
  if (setup === 'native') return { argv };
  if (setup === 'vdens') {
    const quoted = argv.map((c) => `'${c.replace(/'/g, "'\\''")}'`).join(' ');
    return { argv: ['vdens', vnl, 'bash', '-c', `ip link set lo up && ip link set vde0 mtu ${mtu} up && ip addr add ${ip}/24 dev vde0 && exec ${quoted}`] };
  }
  // BENCH_IOTHTS_HELPER=1: (c) without CAP_SYS_ADMIN, so that iothts makes its sockets through
  // libioth's helper instead of by setns (the way before the fast path; for comparisons).
  const capless = process.env.BENCH_IOTHTS_HELPER === '1' ? ['setpriv', '--bounding-set=-sys_admin', '--inh-caps=-sys_admin'] : [];
  return {
    argv: [...capless, argv[0], '--import', 'iothts/register', ...argv.slice(1)],
    env: { ...process.env, IOTH_VNL: vnl, IOTH_CONFIG: `eth,ip=${ip}/24,mtu=${mtu}`, IOTH_STACK: setup === 'vdebridge' ? 'vdebridge' : 'vdestack' },
  };
}

const children = new Set<ChildProcess>();
function spawnCommand(cmd: Command): ChildProcess {
  // Its own process group: vdens, its shell and its node all end together.
  const child = spawn(cmd.argv[0], cmd.argv.slice(1), { cwd: root, env: cmd.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 3000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    try { process.kill(-child.pid!, 'SIGTERM'); } catch { resolve(); }
  });
}

/** Lines of a child's stdout, as they come; its stderr is kept for error messages. */
function lines(
  child: ChildProcess, what: string,
): { next: (timeoutMs: number) => Promise<string>; stderr: () => string } {
  const queue: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let partial = '';
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  child.stdout!.on('data', (d) => {
    partial += d;
    let i: number;
    while ((i = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, i);
      partial = partial.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line); else queue.push(line);
    }
  });
  const next = (timeoutMs: number) => {
    const line = queue.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: no output in ${timeoutMs / 1000} s; stderr: ${stderr}`)), timeoutMs);
      const onExit = (code: number | null) => {
        if (partial) { const rest = partial; partial = ''; clearTimeout(timer); return resolve(rest); }
        clearTimeout(timer);
        reject(new Error(`${what} exited ${code} early; stderr: ${stderr}`));
      };
      child.once('exit', onExit);
      waiters.push((l) => { clearTimeout(timer); child.off('exit', onExit); resolve(l); });
    });
  };
  return { next, stderr: () => stderr };
}

/** The first JSON object line of a child, skipping other lines. */
async function json(
  out: ReturnType<typeof lines>, timeoutMs: number,
): Promise<Record<string, number | string | Record<string, number>>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const line = await out.next(Math.max(1, until - Date.now()));
    if (line.trimStart().startsWith('{')) return JSON.parse(line);
  }
}

interface Pair { server: Command; client: Command }
/** Runs a server (until it prints "ready") and then a client; the client's JSON and the server's next JSON if asked. */
async function runPair(pair: Pair, what: string, clientTimeoutMs: number, serverReport = false) {
  const server = spawnCommand(pair.server);
  const sout = lines(server, `${what} server`);
  try {
    for (;;) if ((await sout.next(15000)).includes('ready')) break;
    const client = spawnCommand(pair.client);
    const cout = lines(client, `${what} client`);
    try {
      let result;
      try {
        result = await json(cout, clientTimeoutMs);
      } catch (err) {
        console.error(`${what}: ${(err as Error).message}\n${diagnose([server.pid!, client.pid!])}`);
        throw err;
      }
      const serverResult = serverReport ? await json(sout, 10000) : null;
      return { result, serverResult };
    } finally {
      // vdens sometimes outlives its command (test/helpers/vdens.ts): 2 s, then it is ended.
      await Promise.race([new Promise((r) => client.once('exit', r)), new Promise((r) => setTimeout(r, 2000))]);
      await kill(client);
    }
  } finally {
    await kill(server);
  }
}

/** What the TCP sockets and links of these processes and their descendants look like (for a stall). */
function diagnose(pids: number[]): string {
  const all = new Set<number>();
  const walk = (pid: number) => {
    if (all.has(pid)) return;
    all.add(pid);
    for (const tid of (() => { try { return fs.readdirSync(`/proc/${pid}/task`); } catch { return []; } })()) {
      try { fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number).forEach(walk); } catch { /* gone */ }
    }
  };
  pids.forEach(walk);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const pid of all) {
    let ns: string;
    try { ns = fs.readlinkSync(`/proc/${pid}/ns/net`); } catch { continue; }
    if (seen.has(ns)) continue;
    seen.add(ns);
    const run = (argv: string[]) => { try { return execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, ...argv], { encoding: 'utf8', timeout: 5000 }); } catch (e) { return String(e); } };
    out.push(`--- pid ${pid} (${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 3).join(' ')}) ${ns}`,
      run(['ss', '-tnmi']), run(['ip', '-s', 'link']));
  }
  return out.join('\n');
}

function pairFor(setup: Setup, mtu: number, server: string[], client: (host: string) => string[]): Pair {
  const vnl = `vxvde://234.77.${Math.floor(++group / 250)}.${(group % 250) + 1}`;
  const host = setup === 'native' ? '127.0.0.1' : '10.0.0.1';
  return {
    server: inSetup(setup, vnl, '10.0.0.1', mtu, server.map((a) => (a === 'HOST' ? host : a))),
    client: inSetup(setup, vnl, '10.0.0.2', mtu, client(host)),
  };
}

const node = process.execPath;
const peer = path.join(dist, 'peer.js');
let port = 9000;

async function httpOnce(setup: Setup, scoped = false) {
  const p = ++port;
  const pair = pairFor(setup, 1500, [node, path.join(dist, 'http-server.js'), 'HOST', String(p)],
    (host) => [node, autocannon, '-j', '-c', String(CONNECTIONS), '-d', String(SECONDS), `http://${host}:${p}/`]);
  if (scoped) pair.server.env = { ...pair.server.env, BENCH_SCOPE: '1' };
  const { result } = await runPair(pair, `http ${setup}${scoped ? ' in a scope' : ''}`, (SECONDS + 30) * 1000);
  const r = result as {
    requests: { average: number }; latency: { p99: number }; errors: number; non2xx: number; timeouts: number;
  };
  if (r.errors || r.non2xx || r.timeouts) throw new Error(`http ${setup}: autocannon saw ${r.errors} errors, ${r.non2xx} non-2xx, ${r.timeouts} timeouts`);
  return { rps: r.requests.average, p99: r.latency.p99 };
}

async function bulkOnce(setup: Setup, mtu: number, mib: number) {
  const p = ++port;
  const pair = pairFor(setup, mtu, [node, peer, 'bulk-server', 'HOST', String(p)],
    (host) => [node, peer, 'bulk-client', host, String(p), String(mib)]);
  // A stall (no progress at 10 MB/s) ends the run with a dump of the sockets and links.
  const { result, serverResult } = await runPair(pair, `bulk ${setup} mtu ${mtu}`, (30 + mib / 10) * 1000, true);
  if (result.sha256 !== serverResult!.sha256 || serverResult!.bytes !== mib * 1048576) {
    throw new Error(`bulk ${setup}: SHA-256 or length mismatch (${JSON.stringify(result)} / ${JSON.stringify(serverResult)})`);
  }
  return result.mbps as number;
}

async function connOnce(setup: Setup) {
  const p = ++port;
  const pair = pairFor(setup, 1500, [node, peer, 'conn-server', 'HOST', String(p)],
    (host) => [node, peer, 'conn-client', host, String(p), String(SECONDS), String(CONN_CONCURRENCY)]);
  const { result } = await runPair(pair, `connections ${setup}`, (SECONDS + 30) * 1000);
  return result.rate as number;
}

async function udpOnce(setup: Setup) {
  const p = ++port;
  const pair = pairFor(setup, 1500, [node, peer, 'udp-server', 'HOST', String(p)],
    (host) => [node, peer, 'udp-client', host, String(p), String(SECONDS), String(UDP_CONCURRENCY)]);
  const { result } = await runPair(pair, `udp ${setup}`, (SECONDS + 30) * 1000);
  return result.rate as number;
}

async function stacksOnce(plugin = 'vdestack', heapMB = 0) {
  const vnl = `vxvde://234.78.0.${(++group % 250) + 1}`;
  const child = spawnCommand({ argv: [node, '--expose-gc', path.join(dist, 'stacks.js'), String(STACKS), vnl, plugin, String(heapMB)] });
  const out = lines(child, 'stacks');
  try {
    return await json(out, 120000) as Record<string, number>;
  } finally {
    await kill(child);
  }
}

/**
 * µs per socketFd() + close: 'floor' on the kernel plugin (a plain socket(2)), 'setns' and 'helper'
 * on a vdestack stack, the latter without CAP_SYS_ADMIN (setpriv), which makes iothts fall back to
 * libioth's helper round trip.
 */
async function socketsOnce(way: 'floor' | 'setns' | 'helper'): Promise<number> {
  const vnl = `vxvde://234.79.0.${(++group % 250) + 1}`;
  const args = [path.join(dist, 'sockets.js'), String(SOCKETS), ...(way === 'floor' ? ['kernel'] : ['vdestack', vnl])];
  const argv = way === 'helper'
    ? ['setpriv', '--bounding-set=-sys_admin', '--inh-caps=-sys_admin', node, ...args]
    : [node, ...args];
  const child = spawnCommand({ argv });
  const out = lines(child, `sockets ${way}`);
  try {
    const r = await json(out, 120000);
    const expected = way === 'setns' ? 'setns' : 'helper';
    if (r.path !== expected) throw new Error(`sockets ${way}: the stack made its sockets by "${r.path}", not "${expected}"`);
    return r.usPerSocket as number;
  } finally {
    await kill(child);
  }
}

/**
 * Wall-clock ms of `node -e 0` STARTUPS times each way, interleaved (hyperfine's way: repeated
 * runs, the median): natively with `--import` of an empty module, and under the hook with a stack
 * on null:// and `eth` (the stack made, lo up, the configuration applied, the override installed,
 * and the stack deleted at exit): with vdestack, the default; with vdebridge; and with the
 * `kernel` plugin and no configuration (the hook's own work: no helper, no namespace to make).
 * The package's code cache (src/code-cache.ts) is the user's, as it would be: made by the first run.
 */
type StartupWay = 'native' | 'iothts' | 'vdebridge' | 'kernel';
function startup(): Record<StartupWay, number[]> {
  const hook = [node, '--import', 'iothts/register', '-e', '0'];
  const ways: Record<StartupWay, { argv: string[]; env: NodeJS.ProcessEnv }> = {
    native: { argv: [node, '--import', path.join(dist, 'empty.js'), '-e', '0'], env: {} },
    iothts: { argv: hook, env: {} },
    vdebridge: { argv: hook, env: { IOTH_STACK: 'vdebridge' } },
    kernel: { argv: hook, env: { IOTH_STACK: 'kernel', IOTH_CONFIG: '' } },
  };
  const times: Record<StartupWay, number[]> = { native: [], iothts: [], vdebridge: [], kernel: [] };
  for (let i = 0; i < STARTUPS; i++) {
    for (const way of Object.keys(ways) as StartupWay[]) {
      const env = { ...process.env, IOTH_VNL: 'null://', IOTH_CONFIG: 'eth', ...ways[way].env };
      const t = process.hrtime.bigint();
      const r = spawnSync(ways[way].argv[0], ways[way].argv.slice(1), { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
      if (r.status !== 0) throw new Error(`startup ${way}: exit ${r.status ?? r.signal}: ${r.stderr}`);
      times[way].push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  return times;
}

interface Row {
  label: string; unit: string; values: Partial<Record<Setup, number>>;
  digits?: number; higherIsBetter?: boolean; ratios?: boolean; note?: string;
}

const want = (name: string) => !only || only.has(name);

async function main(): Promise<void> {
  const began = Date.now();
  const rows: Row[] = [];
  const results: Record<string, unknown> = {};
  // Setups interleave within each case (a, b, c, a, b, c, ...) so that the load of the other
  // tenants of a shared machine falls on all three alike.
  const perSetup = async (what: string, once: (s: Setup) => Promise<number>, setups: Setup[] = SETUPS) => {
    const xs: Record<string, number[]> = {};
    for (let i = 0; i < RUNS; i++) {
      for (const s of setups) {
        const t = Date.now();
        (xs[s] ??= []).push(await once(s));
        console.error(`  ${what} ${s} run ${i + 1}: ${xs[s][i].toFixed(1)} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
      }
    }
    const out: Partial<Record<Setup, number>> = {};
    for (const s of setups) {
      out[s] = median(xs[s]);
      console.error(`${what} ${s}: ${xs[s].map((x) => x.toFixed(1)).join(', ')} -> median ${out[s]!.toFixed(1)}`);
    }
    results[what] = xs;
    return out;
  };

  if (want('http')) {
    const runs: Record<string, { rps: number; p99: number }[]> = {};
    for (let i = 0; i < RUNS; i++) for (const s of SETUPS) (runs[s] ??= []).push(await httpOnce(s));
    const rps: Partial<Record<Setup, number>> = {};
    const p99: Partial<Record<Setup, number>> = {};
    for (const s of SETUPS) {
      rps[s] = median(runs[s].map((r) => r.rps));
      p99[s] = median(runs[s].map((r) => r.p99));
      console.error(`http ${s}: ${runs[s].map((r) => `${r.rps.toFixed(0)} req/s p99 ${r.p99} ms`).join(', ')}`);
    }
    results.http = runs;
    rows.push({ label: `HTTP keep-alive req/s (${CONNECTIONS} conns)`, unit: 'req/s', values: rps, digits: 0, higherIsBetter: true });
    rows.push({ label: 'HTTP p99 latency (ms)', unit: 'ms', values: p99, digits: 0, higherIsBetter: false });
  }
  if (want('httpscope')) {
    // The hook's HTTP server outside and inside a scope of its own stack (stack.run), interleaved:
    // what an active scope costs per request (AsyncLocalStorage, the patch's choice of stack).
    const xs: Record<'plain' | 'scoped', number[]> = { plain: [], scoped: [] };
    for (let i = 0; i < RUNS; i++) {
      for (const way of ['plain', 'scoped'] as const) xs[way].push((await httpOnce('iothts', way === 'scoped')).rps);
    }
    results.httpScope = xs;
    const [plain, scoped] = [median(xs.plain), median(xs.scoped)];
    const difference = ((scoped - plain) / plain) * 100;
    console.error(`http scope: without ${xs.plain.map((x) => x.toFixed(0)).join(', ')}, in a scope ${xs.scoped.map((x) => x.toFixed(0)).join(', ')} req/s ` +
      `-> ${difference.toFixed(1)}%`);
    rows.push({ label: `HTTP keep-alive req/s, the hook's server in a scope (stack.run) (${CONNECTIONS} conns)`, unit: 'req/s', digits: 0,
      ratios: false, values: { iothts: scoped }, note: `without a scope ${plain.toFixed(0)} req/s: ${difference >= 0 ? '+' : ''}${difference.toFixed(1)}%` });
  }
  if (want('bulk')) {
    rows.push({ label: `Bulk TCP MB/s, MTU 1500 (${BULK_1500_MIB} MiB, SHA-256 checked)`, unit: 'MB/s', digits: 0, higherIsBetter: true,
      values: await perSetup('bulk1500', (s) => bulkOnce(s, 1500, BULK_1500_MIB)) });
  }
  if (want('bulk9000')) {
    const v = await perSetup(`bulk${BIG_MTU}`, (s) => bulkOnce(s, BIG_MTU, BULK_MIB));
    rows.push({ label: `Bulk TCP MB/s, MTU ${BIG_MTU} on the virtual links (${BULK_MIB} MiB, SHA-256 checked)`, unit: 'MB/s', digits: 0, higherIsBetter: true, values: v,
      note: '(a) is loopback (MTU 65536) as in every row' });
  }
  if (want('conn')) {
    rows.push({ label: `New TCP connections/s (connect + close, ${CONN_CONCURRENCY} at a time)`, unit: 'conn/s', digits: 0, higherIsBetter: true,
      values: await perSetup('connections', connOnce) });
  }
  if (want('udp')) {
    rows.push({ label: `UDP request/response datagrams/s (${UDP_CONCURRENCY} in flight)`, unit: 'dgram/s', digits: 0, higherIsBetter: true,
      values: await perSetup('udp', udpOnce) });
  }
  if (want('stacks')) {
    // With BENCH_VDEBRIDGE=1 the same on vdebridge, and both plugins again with ~100 MB of Node
    // heap kept: a clone()d helper's cost grows with the process, a spawned one's does not.
    const plugins = VDEBRIDGE ? ['vdestack', 'vdebridge'] as const : ['vdestack'] as const;
    const runs: Record<string, Record<string, number>[]> = {};
    const heavy: Record<string, Record<string, number>[]> = {};
    for (let i = 0; i < RUNS; i++) {
      for (const plugin of plugins) (runs[plugin] ??= []).push(await stacksOnce(plugin));
      if (VDEBRIDGE) for (const plugin of plugins) (heavy[plugin] ??= []).push(await stacksOnce(plugin, 100));
    }
    results.stacks = runs.vdestack;
    if (VDEBRIDGE) Object.assign(results, { stacksVdebridge: runs.vdebridge, stacksHeap100: heavy });
    for (const plugin of plugins) console.error(`stacks ${plugin}: ${runs[plugin].map((r) => JSON.stringify(r)).join('\n  ')}`);
    if (VDEBRIDGE) console.error(`stacks with 100 MB heap: ${JSON.stringify(heavy)}`);
    const m = (k: string, from = runs): Partial<Record<Setup, number>> => ({
      iothts: median(from.vdestack.map((r) => r[k])),
      ...(VDEBRIDGE ? { vdebridge: median(from.vdebridge.map((r) => r[k])) } : {}),
    });
    const na = '(a)/(b): not applicable';
    rows.push({ label: `Stack creation (ms, mean of ${STACKS} in one process)`, unit: 'ms', values: m('createMs'), digits: 2, ratios: false, note: na });
    rows.push({ label: `Stack deletion (ms, mean of ${STACKS})`, unit: 'ms', values: m('deleteMs'), digits: 2, ratios: false, note: na });
    rows.push({ label: 'Memory per stack (MB, PSS of Node + helpers)', unit: 'MB', values: m('pssPerStackMB'), digits: 2, ratios: false, note: na });
    rows.push({ label: 'Memory per stack (MB, the same after Node allocated and collected ~100 MB)', unit: 'MB', values: m('pssPerStackAfterWorkMB'), digits: 2, ratios: false, note: na });
    rows.push({ label: 'Memory per stack (MB, RSS of one helper)', unit: 'MB', values: m('helperRssMB'), digits: 2, ratios: false, note: na });
    if (VDEBRIDGE) {
      rows.push({ label: `Stack creation with ~100 MB of Node heap kept (ms, median of ${STACKS})`, unit: 'ms', values: m('createMedianMs', heavy), digits: 2, ratios: false, note: na });
    }
  }
  if (want('sockets')) {
    const ways = ['floor', 'setns', 'helper'] as const;
    const xs: Record<string, number[]> = {};
    for (let i = 0; i < RUNS; i++) for (const w of ways) (xs[w] ??= []).push(await socketsOnce(w));
    results.sockets = xs;
    for (const w of ways) console.error(`sockets ${w}: ${xs[w].map((x) => x.toFixed(1)).join(', ')} µs`);
    const note = '(a): a host socket(2) through the same call (kernel plugin); (b): not applicable';
    rows.push({ label: `Socket cost (µs per socketFd + close, ${SOCKETS} in a loop), setns fast path`, unit: 'µs',
      values: { native: median(xs.floor), iothts: median(xs.setns) }, digits: 1, ratios: false, note });
    rows.push({ label: `Socket cost (µs, the same), through libioth's helper (the way without CAP_SYS_ADMIN)`, unit: 'µs',
      values: { native: median(xs.floor), iothts: median(xs.helper) }, digits: 1, ratios: false, note });
  }

  if (want('startup')) {
    const xs = startup();
    results.startup = xs;
    const adds = (way: StartupWay) => `the hook adds ${(median(xs[way]) - median(xs.native)).toFixed(1)} ms`;
    console.error(`startup: native ${median(xs.native).toFixed(1)} ms, iothts ${median(xs.iothts).toFixed(1)} ms, ` +
      `vdebridge ${median(xs.vdebridge).toFixed(1)} ms, kernel ${median(xs.kernel).toFixed(1)} ms`);
    rows.push({ label: `Startup, \`node -e 0\` (ms, median of ${STARTUPS})`, unit: 'ms', digits: 1, ratios: false,
      values: { native: median(xs.native), iothts: median(xs.iothts) }, note: `${adds('iothts')}; (b): not applicable` });
    rows.push({ label: 'Startup, the same, IOTH_STACK=vdebridge', unit: 'ms', digits: 1, ratios: false,
      values: { native: median(xs.native), iothts: median(xs.vdebridge) }, note: adds('vdebridge') });
    rows.push({ label: 'Startup, the same, IOTH_STACK=kernel, no IOTH_CONFIG (no helper, no namespace)', unit: 'ms', digits: 1,
      ratios: false, values: { native: median(xs.native), iothts: median(xs.kernel) }, note: adds('kernel') });
  }

  const debian = fs.readFileSync('/etc/debian_version', 'utf8').trim();
  const cpus = os.cpus();
  const machine = `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ` +
    `Debian ${debian}; Node ${process.version}; ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ` +
    `medians of ${RUNS} runs, ${SECONDS} s each; total ${((Date.now() - began) / 60000).toFixed(1)} min`;
  results.machine = machine;

  const fmt = (v: number | undefined, d = 0) => (v === undefined ? 'n/a' : v.toFixed(d));
  const ratio = (r: Row, other: Setup, of: Setup = 'iothts') => {
    const c = r.values[of];
    const o = r.values[other];
    if (r.ratios === false || c === undefined || o === undefined) return 'n/a';
    return (r.higherIsBetter === false ? o / c : c / o).toFixed(2);
  };
  const table = [
    `Machine: ${machine}`,
    '',
    `| case | (a) native loopback | (b) vdens | (c) iothts | (c)/(a) | (c)/(b) |${VDEBRIDGE ? ' (d) iothts, vdebridge | (d)/(a) | (d)/(b) |' : ''}`,
    `| --- | ---: | ---: | ---: | ---: | ---: |${VDEBRIDGE ? ' ---: | ---: | ---: |' : ''}`,
    ...rows.map((r) => `| ${r.label}${r.note ? ` — ${r.note}` : ''} | ${fmt(r.values.native, r.digits)} | ${fmt(r.values.vdens, r.digits)} | ${fmt(r.values.iothts, r.digits)} | ${ratio(r, 'native')} | ${ratio(r, 'vdens')} |` +
      (VDEBRIDGE ? ` ${fmt(r.values.vdebridge, r.digits)} | ${ratio(r, 'native', 'vdebridge')} | ${ratio(r, 'vdens', 'vdebridge')} |` : '')),
    '',
    'Ratios are "how many times as good": throughput (c)/(x), latency (x)/(c).',
  ].join('\n');
  console.log(table);
  results.rows = rows;
  fs.writeFileSync(path.join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(root, 'bench', 'results.md'), `${table}\n`);
  const bars = rows.filter((r) => r.ratios !== false).map((r) => ({
    label: r.label.replace(/ \(.*$/, '').replace(/,.*MTU (\d+).*/, ', MTU $1'),
    a: Number(ratio(r, 'native')), b: Number(ratio(r, 'vdens')),
  }));
  fs.writeFileSync(path.join(root, 'bench', 'results.svg'), chart(bars, machine));
  const doc = path.join(root, 'BENCHMARKS.md');
  if (!only && fs.existsSync(doc)) {
    const text = fs.readFileSync(doc, 'utf8');
    const begin = '<!-- bench:begin -->';
    const end = '<!-- bench:end -->';
    if (text.includes(begin) && text.includes(end)) {
      fs.writeFileSync(doc, `${text.slice(0, text.indexOf(begin) + begin.length)}\n${table}\n${text.slice(text.indexOf(end))}`);
    }
  }
}

/** A horizontal bar chart of the ratios, hand-built SVG: one group per case, (c)/(a) and (c)/(b). */
function chart(bars: { label: string; a: number; b: number }[], machine: string): string {
  const left = 250;
  const width = 480;
  const rowH = 44;
  const top = 40;
  const max = Math.max(2, ...bars.flatMap((b) => [b.a, b.b].filter(Number.isFinite)));
  const x = (v: number) => left + (Math.min(v, max) / max) * width;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [];
  const h = top + bars.length * rowH + 50;
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 60}" height="${h}" font-family="sans-serif" font-size="12">`);
  parts.push('<rect width="100%" height="100%" fill="white"/>');
  parts.push(`<text x="10" y="20" font-size="14" font-weight="bold">iothts relative to native loopback (a) and to vdens (b): higher is better</text>`);
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    parts.push(`<text x="${left - 8}" y="${y + 20}" text-anchor="end">${esc(b.label)}</text>`);
    for (const [k, v, color, dy] of [['(c)/(a)', b.a, '#4e79a7', 2], ['(c)/(b)', b.b, '#f28e2b', 20]] as const) {
      if (!Number.isFinite(v)) {
        parts.push(`<text x="${left + 4}" y="${y + dy + 13}" fill="#888">${k} n/a</text>`);
        continue;
      }
      parts.push(`<rect x="${left}" y="${y + dy}" width="${(x(v) - left).toFixed(1)}" height="16" fill="${color}"/>`);
      parts.push(`<text x="${(x(v) + 4).toFixed(1)}" y="${y + dy + 13}">${k} ${v.toFixed(2)}</text>`);
    }
  });
  const yEnd = top + bars.length * rowH;
  parts.push(`<line x1="${x(1)}" y1="${top - 5}" x2="${x(1)}" y2="${yEnd}" stroke="black" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${x(1)}" y="${yEnd + 14}" text-anchor="middle">1.0</text>`);
  parts.push(`<text x="10" y="${h - 12}" font-size="10" fill="#555">${esc(machine)}</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

main().then(() => process.exit(0), async (err) => {
  console.error(`bench failed: ${err instanceof Error ? err.stack : err}`);
  await Promise.all([...children].map(kill));
  process.exit(1);
});
