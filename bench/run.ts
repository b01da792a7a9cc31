// npm run bench: iothts against native Node and against vdens, in one run on one machine.
// Runs inside a private network namespace (scripts/in-private-netns.sh), so vxvde stays local.
//
//   http    HTTP keep-alive requests/s and p99 latency, autocannon as the client:
//           (a) native: server and client on loopback;
//           (b) vdens: server and client each a whole process under `vdens` on a vxvde network;
//           (c) iothts: server on an iothts stack on that kind of network, client under vdens.
//   bulk    TCP throughput (MB/s, SHA-256 checked): (a) loopback, (c) two iothts stacks on vxvde.
//
// Prints a Markdown table with the machine, and writes bench/results.json.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from 'iothts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BULK_MIB = Number(process.env.BENCH_BULK_MIB ?? 512);
const CONNECTIONS = 16;
const root = path.resolve(__dirname, '..', '..');
const serverScript = path.join(__dirname, 'http-server.js');
const autocannon = path.join(root, 'node_modules', 'autocannon', 'autocannon.js');

if (process.env.IOTHTS_PRIVATE_NETNS !== 'inside') {
  console.error('bench: run it with `npm run bench` (it needs the private network namespace)');
  process.exit(2);
}

let group = 0;
const newVnl = () => `vxvde://234.77.0.${++group}`;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

/** A command under vdens on `vnl`, with vde0 at `ip`/24 and lo up. */
function inVdens(vnl: string, ip: string, command: string[]): string[] {
  const quoted = command.map((c) => `'${c.replace(/'/g, "'\\''")}'`).join(' ');
  return ['vdens', vnl, 'bash', '-c', `ip link set lo up && ip link set vde0 up && ip addr add ${ip}/24 dev vde0 && exec ${quoted}`];
}

function start(argv: string[]): Promise<ChildProcess> {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${argv.join(' ')}: not ready in 10 s`)), 10000);
    child.stdout?.on('data', (d) => {
      if (String(d).includes('ready')) { clearTimeout(timer); resolve(child); }
    });
    child.on('exit', (code) => reject(new Error(`${argv.join(' ')} exited ${code}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function load(clientArgv: (cmd: string[]) => string[], url: string): Promise<{ rps: number; p99: number }> {
  const cmd = clientArgv([process.execPath, autocannon, '-j', '-c', String(CONNECTIONS), '-d', String(SECONDS), url]);
  // The client may need a moment to learn the server's MAC on a fresh network: a warm-up first.
  const out = execFileSync(cmd[0], cmd.slice(1), { encoding: 'utf8', timeout: (SECONDS + 30) * 1000, stdio: ['ignore', 'pipe', 'ignore'] });
  const result = JSON.parse(out.slice(out.indexOf('{')));
  if (result.errors || result.non2xx || result.timeouts) throw new Error(`autocannon saw ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

async function httpCase(setup: 'native' | 'vdens' | 'iothts'): Promise<{ rps: number; p99: number }> {
  const runs: { rps: number; p99: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const vnl = newVnl();
    const port = 8000 + i;
    let server: ChildProcess;
    let client: (cmd: string[]) => string[];
    let url: string;
    if (setup === 'native') {
      server = await start([process.execPath, serverScript, '127.0.0.1', String(port)]);
      client = (cmd) => cmd;
      url = `http://127.0.0.1:${port}/`;
    } else {
      server = await start(setup === 'vdens'
        ? inVdens(vnl, '10.0.0.1', [process.execPath, serverScript, '10.0.0.1', String(port)])
        : [process.execPath, serverScript, '10.0.0.1', String(port), '--stack', vnl]);
      client = (cmd) => inVdens(vnl, '10.0.0.2', cmd);
      url = `http://10.0.0.1:${port}/`;
    }
    try {
      runs.push(await load(client, url));
    } finally {
      await stop(server);
    }
  }
  return { rps: median(runs.map((r) => r.rps)), p99: median(runs.map((r) => r.p99)) };
}

async function bulkOnce(listen: (s: net.Server) => Promise<string>, connect: (port: number, host: string) => net.Socket): Promise<number> {
  const total = BULK_MIB * 1024 * 1024;
  const block = Buffer.alloc(1024 * 1024);
  for (let j = 0; j < block.length; j += 4) block.writeUInt32LE((j * 2654435761) >>> 0, j);
  const sent = createHash('sha256');
  const received = createHash('sha256');
  const server = net.createServer();
  const host = await listen(server);
  const { port } = server.address() as net.AddressInfo;
  const done = new Promise<string>((resolve) => server.once('connection', (s) => {
    s.on('data', (d) => received.update(d));
    s.on('end', () => { resolve(received.digest('hex')); s.end(); });
  }));
  const began = process.hrtime.bigint();
  const client = connect(port, host);
  await new Promise((r) => client.once('connect', r));
  for (let i = 0; i < total / block.length; i++) {
    block.writeUInt32LE(i, 0);
    sent.update(block);
    if (!client.write(Buffer.from(block))) await new Promise((r) => client.once('drain', r));
  }
  client.end();
  const digest = await done;
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  server.close();
  if (digest !== sent.digest('hex')) throw new Error('bulk: SHA-256 mismatch');
  return BULK_MIB * 1.048576 / seconds; // MB/s
}

async function bulkCase(setup: 'native' | 'iothts'): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (setup === 'native') {
      runs.push(await bulkOnce(async (s) => { await new Promise<void>((r) => s.listen(0, '127.0.0.1', r)); return '127.0.0.1'; },
        (port, host) => net.connect(port, host)));
    } else {
      const vnl = newVnl();
      const [a, b] = ['10.0.0.1', '10.0.0.2'].map((ip) => {
        const s = new Stack('vdestack', vnl);
        s.linkSetUpDown('vde0', true);
        s.ipAddrAdd(ip, 24, 'vde0');
        return s;
      });
      try {
        runs.push(await bulkOnce(async (s) => { await new Promise<void>((r) => a.net.listen(s, 0, '10.0.0.1', r)); return '10.0.0.1'; },
          (port, host) => b.net.connect(port, host)));
      } finally {
        a.close();
        b.close();
      }
    }
  }
  return median(runs);
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const results: Record<string, unknown> = {};
  const http: Record<string, { rps: number; p99: number }> = {};
  for (const setup of ['native', 'vdens', 'iothts'] as const) {
    http[setup] = await httpCase(setup);
    console.error(`http ${setup}: ${http[setup].rps.toFixed(0)} req/s, p99 ${http[setup].p99} ms`);
  }
  results.http = http;
  const ratio = (x: number, y: number) => (x / y).toFixed(2);
  rows.push(`| HTTP keep-alive req/s (${CONNECTIONS} conns) | ${http.native.rps.toFixed(0)} | ${http.vdens.rps.toFixed(0)} | ${http.iothts.rps.toFixed(0)} | ${ratio(http.iothts.rps, http.native.rps)} | ${ratio(http.iothts.rps, http.vdens.rps)} |`);
  rows.push(`| HTTP p99 latency (ms) | ${http.native.p99} | ${http.vdens.p99} | ${http.iothts.p99} | | |`);
  const bulk = { native: await bulkCase('native'), iothts: await bulkCase('iothts') };
  console.error(`bulk: native ${bulk.native.toFixed(0)} MB/s, iothts ${bulk.iothts.toFixed(0)} MB/s`);
  results.bulk = bulk;
  rows.push(`| Bulk TCP MB/s (${BULK_MIB} MiB, SHA-256 checked) | ${bulk.native.toFixed(0)} | - | ${bulk.iothts.toFixed(0)} | ${ratio(bulk.iothts, bulk.native)} | - |`);

  const debian = fs.readFileSync('/etc/debian_version', 'utf8').trim();
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; Debian ${debian}; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; medians of ${RUNS} runs, ${SECONDS} s each`;
  results.machine = machine;
  console.log(`Machine: ${machine}\n`);
  console.log('| case | (a) native loopback | (b) vdens | (c) iothts | (c)/(a) | (c)/(b) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(r);
  fs.writeFileSync(path.join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
}

main().catch((err) => {
  console.error(`bench failed: ${err instanceof Error ? err.stack : err}`);
  process.exit(1);
});
