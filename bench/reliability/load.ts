// Load and memory: one http server on an iothts stack holds CONNECTIONS idle keep-alive
// connections from other stacks (holder processes) while autocannon, an unmodified client run under
// `--import iothts/register` on a stack of its own, loads it for SECONDS seconds on the same vxvde
// network. Afterwards every held connection must still answer a request, autocannon must have seen
// no failed request, and the server's RSS must be flat (see `flatness` below).
//
//   node dist/bench/reliability/load.js [--connections 2000] [--seconds 60] [--holders 2]
//        [--cannon-connections 32] [--warmup S] [--limit PCT] [--json]
//
// It must run inside the private network namespace (scripts/in-private-netns.sh; `npm run soak`
// does it). Exit status 0 when everything held, 1 otherwise. The last line of stdout is the JSON
// report. Each part runs in a child process of its own (the same file, another role), so
// descriptors are counted per process: the server needs CONNECTIONS + about 100.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as readline from 'node:readline';

const SERVER_IP = '10.9.0.1';
const CANNON_IP = '10.9.0.3';
const holderIp = (i: number) => `10.9.0.${10 + i}`;
const PORT = 8080;
const MB = 1024 * 1024;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a number, got ${process.argv[i + 1]}`);
  return v;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Roles run in child processes. Each talks to the orchestrator with JSON lines on stdout and
// takes commands as lines on stdin.

function send(msg: object): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

function commands(handler: (line: string) => void): void {
  readline.createInterface({ input: process.stdin }).on('line', handler);
  process.stdin.on('end', () => process.exit(0)); // the orchestrator went away
}

async function newStack(vnl: string, ip: string) {
  const { Stack } = await import('iothts');
  const stack = new Stack('vdestack', vnl);
  stack.linkSetUpDown('lo', true);
  stack.linkSetUpDown('vde0', true);
  stack.ipAddrAdd(ip, 24, 'vde0');
  return stack;
}

async function serverRole(vnl: string): Promise<void> {
  const stack = await newStack(vnl, SERVER_IP);
  let open = 0;
  let peak = 0;
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    res.setHeader('content-type', 'text/plain');
    res.end(req.url === '/hold' ? 'ok' : 'hello from the stack');
  });
  server.keepAliveTimeout = 0; // idle connections are the point: never close them for idleness
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  server.on('connection', (s) => {
    open++;
    peak = Math.max(peak, open);
    s.on('close', () => open--);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve) =>
    stack.net.listen(server, { port: PORT, host: SERVER_IP, backlog: 4096 }, resolve));
  const sample = () => {
    const helpers = childPids(process.pid).reduce((sum, pid) => sum + rssOf(pid), 0);
    send({ type: 'sample', t: Date.now(), rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed, helpers, open, peak, requests });
  };
  setInterval(sample, 500).unref();
  send({ type: 'ready' });
  commands((line) => {
    if (line === 'sample') sample();
    if (line === 'gc-sample') {
      global.gc!();
      sample();
    }
    if (line === 'stop') {
      sample();
      server.close();
      stack.close();
      process.exit(0);
    }
  });
}

const HOLD_REQUEST = `GET /hold HTTP/1.1\r\nHost: ${SERVER_IP}\r\n\r\n`;

/** One request on a raw keep-alive connection; resolves when the whole response ("ok") is in. */
function holdRequest(socket: net.Socket, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let data = '';
    const timer = setTimeout(() => done(new Error(`no answer in ${ms} ms`)), ms);
    const onData = (d: Buffer) => {
      data += d;
      if (/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok$/.test(data)) done();
      else if (data.length > 4096) done(new Error(`unexpected answer ${JSON.stringify(data.slice(0, 80))}`));
    };
    const onClose = () => done(new Error('closed'));
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(HOLD_REQUEST);
  });
}

async function holderRole(vnl: string, index: number, count: number): Promise<void> {
  const stack = await newStack(vnl, holderIp(index));
  const sockets: net.Socket[] = [];
  const errors: Record<string, number> = {};
  let closedEarly = 0;
  const note = (e: NodeJS.ErrnoException) => { errors[e.code ?? e.message] = (errors[e.code ?? e.message] ?? 0) + 1; };
  let phase: 'opening' | 'holding' | 'checking' = 'opening';
  const openOne = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      const s = stack.net.connect(PORT, SERVER_IP);
      try {
        await new Promise<void>((resolve, reject) => {
          s.once('connect', resolve);
          s.once('error', reject);
          s.setTimeout(20000, () => reject(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })));
        });
        s.setTimeout(0);
        s.removeAllListeners('error');
        s.on('error', note);
        await holdRequest(s, 20000);
        s.once('close', () => { if (phase !== 'checking') closedEarly++; });
        sockets.push(s);
        return;
      } catch (err) {
        s.destroy();
        note(err as NodeJS.ErrnoException);
        if (attempt >= 2) throw err; // counted; a failed connection fails the run
      }
    }
  };
  // Open them 100 at a time: a SYN flood of thousands at once only measures the backlog.
  const started = Date.now();
  let failedToOpen = 0;
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, () => openOne().catch(() => { failedToOpen++; }));
    await Promise.all(batch);
  }
  phase = 'holding';
  send({ type: 'held', held: sockets.length, failedToOpen, ms: Date.now() - started, errors });
  commands(async (line) => {
    if (line === 'stop') {
      for (const s of sockets) s.destroy();
      stack.close();
      process.exit(0);
    }
    if (line !== 'check') return;
    const alive = sockets.filter((s) => !s.destroyed).length;
    let ok = 0;
    let failed = 0;
    for (let i = 0; i < sockets.length; i += 200) {
      await Promise.all(sockets.slice(i, i + 200).map((s) => holdRequest(s, 20000).then(
        () => { ok++; },
        (e) => { failed++; note(e); },
      )));
    }
    phase = 'checking';
    send({ type: 'checked', alive, ok, failed, closedEarly, errors });
    for (const s of sockets) s.destroy();
    stack.close();
    process.exit(0);
  });
}

// Under `--import iothts/register`: autocannon, unmodified, on the stack the hook made.
async function cannonRole(seconds: number, connections: number): Promise<void> {
  const autocannon = require('autocannon');
  const url = `http://${SERVER_IP}:${PORT}/`;
  // A short warm-up request first: the client learns the server's MAC.
  await new Promise<void>((resolve, reject) => http.get(url, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
  const result = await autocannon({ url, connections, duration: seconds, timeout: 10 });
  send({
    type: 'cannon',
    total: result.requests.total,
    sent: result.requests.sent,
    average: result.requests.average,
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches,
    resets: result.resets,
    p99: result.latency.p99,
    latencyMax: result.latency.max,
  });
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// The orchestrator.

interface Child {
  proc: ChildProcess;
  messages: Array<Record<string, unknown>>;
  next(type: string, ms: number): Promise<Record<string, unknown>>;
  command(line: string): void;
}

/** Raises the soft descriptor limit in the child (up to the hard one) before node starts. */
function spawnRole(args: string[], nofile: number, env: NodeJS.ProcessEnv = {}, nodeOptions: string[] = []): Child {
  const script = `ulimit -n ${nofile} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`;
  const proc = spawn('sh', ['-c', script, 'sh', process.execPath, ...nodeOptions, __filename, ...args], {
    env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'],
  });
  const messages: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      messages.push(JSON.parse(line));
    } catch {
      process.stderr.write(`${line}\n`);
      return;
    }
    for (const w of waiters.splice(0)) w();
  });
  let exited = false;
  proc.on('exit', () => { exited = true; for (const w of waiters.splice(0)) w(); });
  return {
    proc,
    messages,
    command: (line) => { if (!exited) proc.stdin!.write(`${line}\n`); },
    next(type, ms) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${args[0]}: no '${type}' in ${ms} ms`)), ms);
        const check = () => {
          const m = messages.find((x) => x.type === type);
          if (m) {
            messages.splice(messages.indexOf(m), 1);
            clearTimeout(timer);
            resolve(m);
          } else if (exited) {
            clearTimeout(timer);
            reject(new Error(`${args[0]} exited (${proc.exitCode ?? proc.signalCode}) before '${type}'`));
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
  };
}

/**
 * "Flat" memory: after the warm-up, the median RSS of the last third of the load phase is within
 * `limitPct` % of the median of its first third. Medians ignore single GC spikes; thirds compare
 * the start and the end of a steady load, so a leak that grows per request shows up as growth.
 */
export function flatness(samples: number[], limitPct: number) {
  const third = Math.floor(samples.length / 3);
  const first = median(samples.slice(0, third));
  const last = median(samples.slice(samples.length - third));
  const growthPct = ((last - first) / first) * 100;
  return { samples: samples.length, firstThirdMB: +(first / MB).toFixed(1), lastThirdMB: +(last / MB).toFixed(1),
    growthPct: +growthPct.toFixed(1), limitPct, flat: third >= 2 && growthPct <= limitPct };
}

async function orchestrate(): Promise<number> {
  if (process.env.IOTHTS_PRIVATE_NETNS !== 'inside') {
    console.error('load: run it inside scripts/in-private-netns.sh (npm run soak does): it uses vxvde');
    return 2;
  }
  const connections = arg('connections', 2000);
  const seconds = arg('seconds', 60);
  const holders = Math.max(1, arg('holders', 2));
  const cannonConnections = arg('cannon-connections', 32);
  const warmup = arg('warmup', Math.max(2, Math.round(seconds / 4)));
  const limitPct = arg('limit', 20);
  const heapLimitMB = arg('heap-limit', 4);
  const group = Number(arg('group', (process.pid % 250) + 1));
  const vnl = `vxvde://234.99.${(process.pid >> 8) & 255}.${group}`;
  const log = (s: string) => console.error(`load: ${s}`);
  // The server needs a descriptor per connection: say so plainly when the hard limit is too low.
  const hard = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
  if (hard !== 'unlimited' && Number(hard) < connections + cannonConnections + 200) {
    console.log(JSON.stringify({ connections, pass: false, failures: [`the hard RLIMIT_NOFILE (${hard}) is below the ${connections + cannonConnections + 200} descriptors the server needs`] }));
    return 1;
  }
  const began = Date.now();
  const children: Child[] = [];
  const report: Record<string, unknown> = { connections, seconds, holders, cannonConnections, warmup, vnl };
  try {
    const server = spawnRole(['server', vnl], connections + cannonConnections + 200, {}, ['--expose-gc']);
    children.push(server);
    await server.next('ready', 20000);
    const per = Math.ceil(connections / holders);
    const holderChildren = Array.from({ length: holders }, (_, i) => spawnRole(['holder', vnl, String(i), String(Math.min(per, connections - i * per))], per + 200));
    children.push(...holderChildren);
    const held = await Promise.all(holderChildren.map((h) => h.next('held', 120000)));
    const heldTotal = held.reduce((n, h) => n + (h.held as number), 0);
    log(`${heldTotal} connections held (${held.map((h) => `${h.held} in ${h.ms} ms`).join(', ')})`);
    server.messages.length = 0;
    server.command('gc-sample');
    const beforeLoad = await server.next('sample', 5000);
    server.messages.length = 0;

    const cannon = spawnRole(['cannon', String(seconds), String(cannonConnections)], 1024,
      { IOTH_VNL: vnl, IOTH_CONFIG: `eth,ip=${CANNON_IP}/24` }, ['--import', 'iothts/register']);
    children.push(cannon);
    const loadStart = Date.now();
    const result = await cannon.next('cannon', (seconds + 60) * 1000);
    log(`autocannon: ${result.total} requests, ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
    const samples = server.messages.filter((m) => m.type === 'sample' && (m.t as number) >= loadStart + warmup * 1000
      && (m.t as number) <= loadStart + seconds * 1000);
    // After a full GC, with the same connections held as before the load: the live JS heap.
    await new Promise((r) => setTimeout(r, 1000)); // autocannon's connections close
    server.messages.length = 0;
    server.command('gc-sample');
    const afterGc = await server.next('sample', 5000);
    server.messages.length = 0;

    for (const h of holderChildren) h.command('check');
    const checked = await Promise.all(holderChildren.map((h) => h.next('checked', 60000)));
    server.messages.length = 0;
    server.command('sample');
    const afterLoad = await server.next('sample', 5000);
    const memory = flatness(samples.map((s) => s.rss as number), limitPct);
    const helpers = flatness(samples.map((s) => s.helpers as number), limitPct);
    const sum = (key: string) => checked.reduce((n, c) => n + (c[key] as number), 0);
    Object.assign(report, {
      held: heldTotal,
      failedToOpen: held.reduce((n, h) => n + (h.failedToOpen as number), 0),
      serverOpenBeforeLoad: beforeLoad.open,
      serverPeak: afterLoad.peak,
      stillAnswering: sum('ok'),
      failedAfterLoad: sum('failed'),
      closedDuringLoad: sum('closedEarly'),
      holderErrors: checked.map((c) => c.errors),
      requests: result,
      memory,
      liveHeap: {
        beforeLoadMB: +((beforeLoad.heap as number) / MB).toFixed(1),
        afterLoadMB: +((afterGc.heap as number) / MB).toFixed(1),
        growthMB: +(((afterGc.heap as number) - (beforeLoad.heap as number)) / MB).toFixed(1),
        limitMB: heapLimitMB,
        openBefore: beforeLoad.open,
        openAfter: afterGc.open,
      },
      rssSeriesMB: samples.map((x) => +((x.rss as number) / MB).toFixed(1)),
      heapSeriesMB: samples.map((x) => +((x.heap as number) / MB).toFixed(1)),
      helperMemory: helpers,
      rssBeforeLoadMB: +((beforeLoad.rss as number) / MB).toFixed(1),
      rssAfterLoadMB: +((afterLoad.rss as number) / MB).toFixed(1),
      serverRequests: afterLoad.requests,
      elapsedSeconds: +((Date.now() - began) / 1000).toFixed(1),
    });
    const failures: string[] = [];
    if (heldTotal !== connections) failures.push(`held ${heldTotal} of ${connections} connections`);
    if ((beforeLoad.open as number) < connections) failures.push(`the server saw only ${beforeLoad.open} connections open`);
    if (sum('ok') !== connections) failures.push(`${connections - sum('ok')} held connections did not answer after the load`);
    if (sum('closedEarly') !== 0) failures.push(`${sum('closedEarly')} held connections closed during the load`);
    if ((result.total as number) === 0) failures.push('autocannon made no request');
    for (const k of ['errors', 'timeouts', 'non2xx', 'mismatches', 'resets'] as const) {
      if (result[k]) failures.push(`autocannon: ${result[k]} ${k}`);
    }
    if (!memory.flat) failures.push(`server RSS grew ${memory.growthPct}% (limit ${limitPct}%)`);
    if ((afterGc.heap as number) - (beforeLoad.heap as number) > heapLimitMB * MB) {
      failures.push(`the live JS heap grew ${(((afterGc.heap as number) - (beforeLoad.heap as number)) / MB).toFixed(1)} MB (limit ${heapLimitMB} MB)`);
    }
    report.failures = failures;
    report.pass = failures.length === 0;
    return failures.length === 0 ? 0 : 1;
  } catch (err) {
    report.failures = [String((err as Error).message)];
    report.pass = false;
    return 1;
  } finally {
    // Let every part close its stack and exit (up to 5 s). A part killed instead leaves its
    // vdestack helper behind, which may wait for good in libvdeplug's vxvde receive (seen: 15 min
    // and more), holding the part's stdout open: kill the helpers too.
    for (const c of children) c.command('stop');
    const helpers = children.flatMap((c) => (c.proc.pid ? childPids(c.proc.pid) : []));
    const exited = (c: Child) => new Promise((r) => (c.proc.exitCode !== null || c.proc.signalCode !== null ? r(null) : c.proc.once('exit', r)));
    await Promise.race([Promise.all(children.map(exited)), new Promise((r) => setTimeout(r, 5000))]);
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    for (const pid of helpers) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    console.log(JSON.stringify(report));
  }
}

const role = process.argv[2];
const fail = (err: unknown) => {
  console.error(`load ${role ?? ''}: ${err instanceof Error ? err.stack : err}`);
  process.exit(1);
};
if (role === 'server') serverRole(process.argv[3]).catch(fail);
else if (role === 'holder') holderRole(process.argv[3], Number(process.argv[4]), Number(process.argv[5])).catch(fail);
else if (role === 'cannon') cannonRole(Number(process.argv[3]), Number(process.argv[4])).catch(fail);
else if (require.main === module) orchestrate().then((code) => { process.exitCode = code; }, fail);
