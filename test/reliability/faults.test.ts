// Faults during a transfer: the peer's stack deleted, the VDE network node gone (a hub hosted by a
// stack, a vde_switch), the server process killed. Every part runs in a child process of its own
// (test/fixtures/faults.js), so a crash would show as a failed test, not a dead jest. The client
// must end with an error or an end of stream within its timeout: never hang, never crash.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { descendants } from '../helpers/host-sockets';
import { vxvdeGroup } from '../helpers/netns';
import { until } from '../helpers/until';

const fixture = path.join(__dirname, '..', 'fixtures', 'faults.js');
const root = path.resolve(__dirname, '..', '..');
const CLIENT_TIMEOUT = 2000;

interface Proc {
  child: ChildProcess;
  /** The process and those below it (vdestack helpers) as last seen: killed at the end too. */
  family: Set<number>;
  next(key: string, ms?: number): Promise<Record<string, unknown>>;
  send(line: string): void;
  stderr(): string;
}

const procs: Proc[] = [];
let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-faults-')); });
afterEach(() => {
  // A killed process's vdestack helper can outlive it and hold its stdout open: kill those too.
  for (const p of procs.splice(0)) {
    for (const pid of p.family) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function start(cmd: string, args: string[]): Proc {
  const child = spawn(cmd, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  const seen: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  const family = new Set<number>(child.pid ? [child.pid] : []);
  readline.createInterface({ input: child.stdout! }).on('line', (l) => {
    if (child.pid && child.exitCode === null) for (const pid of descendants(child.pid)) family.add(pid);
    try { seen.push(JSON.parse(l)); } catch { err += `${l}\n`; }
    for (const w of waiters.splice(0)) w();
  });
  child.on('exit', () => { for (const w of waiters.splice(0)) w(); });
  const proc: Proc = {
    child,
    family,
    stderr: () => err,
    send: (line) => { if (child.exitCode === null) child.stdin!.write(`${line}\n`); },
    next: (key, ms = 20000) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${args.slice(0, 2).join(' ')}: no "${key}" in ${ms} ms (a hang); stderr: ${err}`)), ms);
      const check = () => {
        const m = seen.find((x) => key in x);
        if (m) { clearTimeout(timer); resolve(m); return; }
        if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`${args.slice(0, 2).join(' ')} exited (${child.exitCode ?? child.signalCode}) before "${key}": ${err}`));
          return;
        }
        waiters.push(check);
      };
      check();
    }),
  };
  procs.push(proc);
  return proc;
}

const role = (...args: string[]) => start(process.execPath, [fixture, ...args]);

/** Server and client up, the client streaming (or waiting to read); returns them. */
async function transferring(serverVnl: string, clientVnl: string, mode: 'send' | 'read' | 'keepalive'): Promise<{ server: Proc; client: Proc }> {
  const server = role('server', serverVnl, '10.7.0.1');
  await server.next('ready');
  const client = role('client', clientVnl, '10.7.0.2', '10.7.0.1', mode, String(CLIENT_TIMEOUT));
  await client.next('streaming');
  return { server, client };
}

interface Outcome { event: string; code?: string; syscall?: string; ms: number; hadError: boolean }

/** The client's report (its first event after the fault), then its 'close'; within `maxMs`. */
async function outcome(client: Proc, maxMs: number): Promise<Outcome> {
  const report = await client.next('event', maxMs + 10000);
  const closed = await client.next('closed', 5000);
  if (process.env.FAULTS_DEBUG) console.log(JSON.stringify(report), JSON.stringify(closed));
  expect(client.stderr()).toBe('');
  expect(report.ms as number).toBeLessThanOrEqual(maxMs);
  return { ...report, hadError: closed.hadError } as Outcome;
}

// Node's idle timeout on a writer whose write is stuck: the first expiry sees the write queue
// changed since the last check and re-arms once (net.js _onTimeout), so it fires after 1 to 2
// timeouts. A reader with nothing pending gets it after one.
const WRITER_LIMIT = 2 * CLIENT_TIMEOUT + 2000;
const READER_LIMIT = CLIENT_TIMEOUT + 2000;

test('the peer stack deleted mid-transfer: the sending client times out (ETIMEDOUT), it does not hang', async () => {
  const vnl = vxvdeGroup();
  const { server, client } = await transferring(vnl, vnl, 'send');
  server.send('delete');
  client.send('fault');
  await server.next('deleted');
  const r = await outcome(client, WRITER_LIMIT);
  expect(r).toMatchObject({ event: 'timeout', hadError: true });
  expect(r.ms).toBeGreaterThanOrEqual(CLIENT_TIMEOUT - 500); // nothing came back: only the timeout noticed
  expect(server.child.exitCode).toBeNull(); // the server process survives the deletion of its stack
}, 40000);

test('the peer stack deleted while the client waits to read: the idle timeout notices', async () => {
  const vnl = vxvdeGroup();
  const { server, client } = await transferring(vnl, vnl, 'read');
  server.send('delete');
  client.send('fault');
  await server.next('deleted');
  const r = await outcome(client, READER_LIMIT);
  expect(r).toMatchObject({ event: 'timeout', hadError: true });
}, 40000);

test('the peer stack deleted, a reader with setKeepAlive(true, 1000) and no timeout: the kernel reports ETIMEDOUT', async () => {
  // Node 20's libuv sets TCP_KEEPIDLE to the delay, TCP_KEEPINTVL 1 s, TCP_KEEPCNT 10 (measured: ~11 s).
  const vnl = vxvdeGroup();
  const { server, client } = await transferring(vnl, vnl, 'keepalive');
  server.send('delete');
  client.send('fault');
  await server.next('deleted');
  const r = await outcome(client, 20000);
  expect(r).toMatchObject({ event: 'error', code: 'ETIMEDOUT', hadError: true });
  expect(r.ms).toBeGreaterThanOrEqual(5000);
}, 40000);

test('the hub (hosted by a stack in another process) killed mid-transfer: the client times out', async () => {
  const hub = role('hub', dir);
  await hub.next('ready');
  const { client } = await transferring(`vde://${dir}/hub`, `vde://${dir}/hub`, 'send');
  hub.child.kill('SIGKILL');
  client.send('fault');
  const r = await outcome(client, WRITER_LIMIT);
  expect(r).toMatchObject({ event: 'timeout', hadError: true });
}, 40000);

test('the hub\'s stack closed mid-transfer (its process lives on): the client times out', async () => {
  const hub = role('hub', dir);
  await hub.next('ready');
  const { client } = await transferring(`vde://${dir}/hub`, `vde://${dir}/hub`, 'send');
  hub.send('close');
  client.send('fault');
  await hub.next('closed');
  const r = await outcome(client, WRITER_LIMIT);
  expect(r).toMatchObject({ event: 'timeout', hadError: true });
}, 40000);

test('a vde_switch killed mid-transfer: the client times out', async () => {
  const sw = start('vde_switch', ['-s', path.join(dir, 'sw')]);
  await until('the vde_switch\'s control socket', () => fs.existsSync(path.join(dir, 'sw', 'ctl')), { timeout: 5000, interval: 50 });
  const { client } = await transferring(`vde://${dir}/sw`, `vde://${dir}/sw`, 'send');
  sw.child.kill('SIGKILL');
  client.send('fault');
  const r = await outcome(client, WRITER_LIMIT);
  expect(r).toMatchObject({ event: 'timeout', hadError: true });
}, 40000);

// A killed or crashed server sends no reset: libioth's vdestack helper shares the process's
// descriptor table (clone with CLONE_FILES), so the server's sockets outlive the process until
// the helper exits, and the helper exits as soon as it wakes up and finds its parent gone,
// before forwarding anything (modules/ioth_vdestack.c). The peer sees silence: its timeout notices.
test('the server process killed (SIGKILL) mid-transfer: no reset comes, the client times out', async () => {
  const vnl = vxvdeGroup();
  const { server, client } = await transferring(vnl, vnl, 'send');
  server.child.kill('SIGKILL');
  client.send('fault');
  const r = await outcome(client, WRITER_LIMIT);
  expect(r).toMatchObject({ event: 'timeout', hadError: true });
}, 40000);

test('the server process crashing (uncaught exception) mid-transfer: the client times out', async () => {
  const vnl = vxvdeGroup();
  const { server, client } = await transferring(vnl, vnl, 'send');
  server.send('crash');
  client.send('fault');
  const r = await outcome(client, WRITER_LIMIT);
  expect(r).toMatchObject({ event: 'timeout', hadError: true });
  await new Promise((resolve) => (server.child.exitCode !== null ? resolve(null) : server.child.once('exit', resolve)));
  expect(server.child.exitCode).toBe(1);
  expect(server.stderr()).toMatch(/the server crashed/);
}, 40000);
