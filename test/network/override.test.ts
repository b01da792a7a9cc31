// The process-wide override and `node --import iothts/register`: unmodified programs, each in an
// EMPTY network namespace of its own (nothing of the host's stack is usable there, so anything that
// leaked would fail), talking over a hub; curl under vdens reaching such a program over vxvde; the
// misconfiguration table; override() refusing to half-work, and undoing.
import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { descendants, HostSocket, hostSockets, netnsOf } from '../helpers/host-sockets';
import { vxvdeGroup } from '../helpers/netns';
import { curlUnderVdens } from '../helpers/vdens';

const root = path.resolve(__dirname, '..', '..');
const fixtures = path.join(__dirname, '..', 'fixtures', 'override');
let dir: string;
let key: string;
let cert: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-override-'));
  key = path.join(dir, 'key.pem');
  cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=server.test', '-addext', 'subjectAltName=DNS:server.test'], { stdio: 'ignore' });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** node with the hook, in an empty network namespace of its own unless `hostNetns`. */
function nodeArgs(args: string[], hostNetns = false): [string, string[]] {
  const node = [process.execPath, '--import', 'iothts/register', ...args];
  return hostNetns ? [node[0], node.slice(1)] : ['unshare', ['--net', '--', ...node]];
}

function startServer(env: NodeJS.ProcessEnv, hostNetns = false): Promise<ChildProcess> {
  const [cmd, args] = nodeArgs([path.join(fixtures, 'server.mjs'), key, cert], hostNetns);
  const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d) => { err += d; });
    child.stdout!.on('data', (d) => { if (String(d).includes('ready')) resolve(child); });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

function run(
  cmd: string, args: string[], env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: root, env: { ...process.env, ...env }, timeout: 30000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('the host-socket census sees a listener and a UDP socket on the host stack (so its empty answers mean something)', async () => {
  const net = await import('node:net');
  const dgram = await import('node:dgram');
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const udp = dgram.createSocket('udp6');
  await new Promise<void>((r) => udp.bind(0, '::1', r));
  const seen = hostSockets(process.pid);
  expect(seen).toContainEqual({ proto: 'tcp', local: '0100007F', port: (server.address() as import('node:net').AddressInfo).port, state: 'LISTEN' });
  expect(seen.some((h) => h.proto === 'udp6' && h.port === udp.address().port)).toBe(true);
  server.close();
  udp.close();
});

test('unmodified server and client apps, each in an empty netns, over a hub: express, fetch, ws, https, http2, dgram, dns', async () => {
  const hub = path.join(dir, 'hub');
  const server = await startServer({ IOTH_VNL: `hub://${hub}`, IOTH_CONFIG: 'eth,ip=10.0.0.1/24' });
  // Its six servers listen on the stack: not one socket on the host's stack, not even a listener
  // (which an empty namespace would let bind and never reach).
  expect(hostSockets(server.pid!)).toEqual([]);
  const [cmd, args] = nodeArgs([path.join(fixtures, 'client.mjs'), cert]);
  const result = await run(cmd, args, { IOTH_VNL: `vde://${hub}`, IOTH_CONFIG: 'eth,ip=10.0.0.2/24,dns=10.0.0.1' });
  expect(result.stderr).toBe('');
  expect(JSON.parse(result.stdout)).toEqual({
    resolve4: ['10.0.0.1'],
    lookup: '10.0.0.1',
    fetch: { hello: 'node', from: '::ffff:10.0.0.2' },
    post: { sum: 42 },
    ws: 'echo hi',
    https: 'tls ::ffff:10.0.0.2',
    http2: 'h2 2.0',
    udp: 'echo ping',
    isIPv4: true,
  });
  expect(hostSockets(server.pid!)).toEqual([]);
}, 40000);

test('the iothpy vhttp scenario: curl under vdens fetches from an express app served with the hook over vxvde', async () => {
  const vnl = vxvdeGroup();
  // vxvde's multicast sockets are opened by the app's process in its own namespace (libioth's
  // vdestack opens the VNL before it makes the stack's), and curl's vdens must share that
  // namespace: the server runs in the test's private one. There the only host sockets it may hold
  // are vxvde's UDP ones (the group's port 14789 and a unicast port): no TCP socket at all.
  const server = await startServer({ IOTH_VNL: vnl, IOTH_CONFIG: 'eth,ip=10.0.0.1/24' }, true);
  const body = await curlUnderVdens(vnl, '10.0.0.2', 'http://10.0.0.1:8080/hello/curl', children);
  expect(JSON.parse(body)).toEqual({ hello: 'curl', from: '::ffff:10.0.0.2' });
  const host = hostSockets(server.pid!);
  expect(host.filter((h: HostSocket) => h.proto.startsWith('tcp'))).toEqual([]);
  expect(host.filter((h: HostSocket) => h.port === 14789)).not.toEqual([]);
  expect(host.filter((h: HostSocket) => h.proto.startsWith('udp')).length).toBeLessThanOrEqual(2);
}, 40000);

test('CommonJS apps with --require, and the default configuration (slirp with a static address)', async () => {
  const script = `
    const http = require('http');
    const os = require('os');
    const server = http.createServer((req, res) => res.end('cjs ' + req.socket.remoteAddress));
    server.listen(8080, '10.0.2.15', () => {
      http.get('http://10.0.2.15:8080/', (res) => {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => { console.log(body); server.close(); });
      });
    });`;
  const { code, stdout, stderr } = await run('unshare', ['--net', '--', process.execPath, '--require', 'iothts/register', '-e', script]);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(stdout.trim()).toBe('cjs 10.0.2.15');
});

test('IOTH_CONFIG alone, in ioth_newstackc\'s one-string form, with DHCP: the app starts on a leased address', async () => {
  const script = `
    const http = require('http');
    const dns = require('dns');
    const server = http.createServer((req, res) => res.end('leased ' + req.socket.localAddress));
    server.listen(8080, '10.0.2.15', () => {
      http.get('http://10.0.2.15:8080/', (res) => {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => { console.log(body, dns.getServers().join()); server.close(); });
      });
    });`;
  const { code, stdout, stderr } = await run('unshare', ['--net', '--', process.execPath, '--require', 'iothts/register', '-e', script],
    { IOTH_CONFIG: 'stack=vdestack vnl=slirp:// eth dhcp' });
  expect(stderr).toBe('');
  expect(code).toBe(0);
  expect(stdout.trim()).toBe('leased 10.0.2.15 10.0.2.3');
});

describe('misconfiguration: one line naming the variable and the value, exit 1', () => {
  const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
    ['unknown plugin', { IOTH_STACK: 'nope' }, /^iothts\/register: IOTH_STACK="nope": .*no libioth plugin "nope"/],
    ['plugin name with a path', { IOTH_STACK: '../x' }, /^iothts\/register: IOTH_STACK="\.\.\/x": /],
    ['unknown VNL module', { IOTH_VNL: 'foo://bar' }, /^iothts\/register: IOTH_VNL="foo:\/\/bar": .*unknown VNL module/],
    ['missing switch', { IOTH_VNL: 'vde:///nonexistent/sw' }, /^iothts\/register: IOTH_VNL="vde:\/\/\/nonexistent\/sw": .*ENOENT/],
    ['blank VNL', { IOTH_VNL: '   ' }, /^iothts\/register: IOTH_VNL=" {3}": no VNL given/],
    ['unknown config key', { IOTH_VNL: 'null://', IOTH_CONFIG: 'eth,bogus=1' }, /^iothts\/register: IOTH_CONFIG="eth,bogus=1": .*'bogus=1'.*unknown key/],
    ['bad address', { IOTH_VNL: 'null://', IOTH_CONFIG: 'eth,ip=10.0.0.300/24' }, /^iothts\/register: IOTH_CONFIG=.*'ip=10\.0\.0\.300\/24'/],
    ['bad gateway', { IOTH_VNL: 'null://', IOTH_CONFIG: 'eth,ip=10.0.0.1/24,gw=192.168.9.1' }, /^iothts\/register: IOTH_CONFIG=.*ENETUNREACH.*'gw=192\.168\.9\.1'/],
    ['bad MAC', { IOTH_VNL: 'null://', IOTH_CONFIG: 'eth,mac=zz' }, /^iothts\/register: IOTH_CONFIG=.*'mac=zz'/],
    ['unterminated quote', { IOTH_VNL: 'null://', IOTH_CONFIG: "eth,domain='x" }, /^iothts\/register: IOTH_CONFIG=.*unterminated/],
    ['vnl= and IOTH_VNL both', { IOTH_VNL: 'null://', IOTH_CONFIG: 'vnl=null://,eth' }, /^iothts\/register: IOTH_CONFIG="vnl=null:\/\/,eth": its vnl= contradicts IOTH_VNL: set one of them\n$/],
    ['stack= and IOTH_STACK both', { IOTH_STACK: 'vdestack', IOTH_CONFIG: 'stack=vdestack' }, /^iothts\/register: IOTH_CONFIG=.*its stack= contradicts IOTH_STACK/],
    ['unknown plugin in IOTH_CONFIG', { IOTH_CONFIG: 'stack=nope,vnl=null://' }, /^iothts\/register: IOTH_STACK="nope": .*no libioth plugin "nope"/],
  ];
  test.each(cases)('%s', async (_name, env, message) => {
    const [cmd, args] = nodeArgs(['-e', 'console.log("app ran")']);
    const { code, stdout, stderr } = await run(cmd, args, env);
    expect(code).toBe(1);
    expect(stdout).toBe(''); // the app never ran
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });
});

test('override() refuses when host sockets are already open, and its undo puts new sockets back on the host', async () => {
  const script = `
    const net = require('net');
    const { Stack, override } = require('iothts');
    const stack = new Stack('vdestack');
    stack.linkSetUpDown('lo', true);
    const early = net.createServer().listen(0, '127.0.0.1', () => {
      let refused = '';
      try { override(stack); } catch (e) { refused = e.code; }
      early.close(() => {
        const undo = override(stack);
        const onStack = net.createServer().listen(0, '127.0.0.1', () => {
          const port = onStack.address().port;
          // While overridden, a client reaches the server on the stack's lo ...
          net.connect(port, '127.0.0.1').on('connect', function () {
            this.destroy();
            undo();
            // ... after undo(), a new client uses this namespace's own loopback, where nobody listens.
            net.connect(port, '127.0.0.1').on('error', (e) => {
              console.log(JSON.stringify({ refused, overridden: 'connected', afterUndo: e.code }));
              onStack.close();
              stack.close();
            });
          });
        });
      });
    });`;
  // In the private netns (lo up): after undo(), new sockets use this namespace's own loopback again.
  const { stdout, stderr } = await run(process.execPath, ['-e', script]);
  expect(stderr).toBe('');
  expect(JSON.parse(stdout)).toEqual({ refused: 'ERR_IOTH_OVERRIDE', overridden: 'connected', afterUndo: 'ECONNREFUSED' });
});

test("under Node's permission model the hook refuses in one line, naming the flag as this Node spells it", async () => {
  // Node 20 knows only --experimental-permission, 24 and 26 only --permission (22 both).
  const flag = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
  const { code, stdout, stderr } = await run(process.execPath, ['--no-warnings', flag, '--allow-fs-read=*', '--allow-addons',
    '--allow-child-process', '--import', 'iothts/register', '-e', 'console.log("app ran")'],
  { IOTH_VNL: 'null://', IOTH_CONFIG: 'eth,ip=10.0.0.1/24' });
  expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
  expect(stderr).toBe(`iothts/register: iothts cannot reach Node's socket handles (process.binding); the override does not work under ${flag}\n`);
});

test('a worker thread uses the process\'s stack; cluster workers serve through the primary\'s', async () => {
  const hub = path.join(dir, 'hub-threads');
  const [cmd, args] = nodeArgs([path.join(fixtures, 'threads.mjs')]);
  const app = spawn(cmd, args, { cwd: root, env: { ...process.env, IOTH_VNL: `hub://${hub}`, IOTH_CONFIG: 'eth,ip=10.0.0.1/24' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(app);
  let out = '';
  let err = '';
  app.stderr!.on('data', (d) => { err += d; });
  const ready = new Promise<void>((resolve, reject) => {
    app.stdout!.on('data', (d) => { out += d; if (out.includes('ready')) resolve(); });
    app.on('exit', (code) => reject(new Error(`app exited ${code}: ${err}`)));
  });
  await ready;
  // The primary and its cluster workers (the processes in the app's namespace, not the stacks'
  // helpers, which live in the stacks' own): no socket on the host's stack.
  const family = descendants(app.pid!).filter((pid) => netnsOf(pid) === netnsOf(app.pid!));
  expect(family.length).toBeGreaterThanOrEqual(3);
  expect(family.flatMap((pid) => hostSockets(pid))).toEqual([]);
  const ended = new Promise<void>((resolve) => app.on('exit', () => resolve()));
  // A client of its own on the hub: 20 connections, then /done.
  const client = `
    const http = require('http');
    const get = (p) => new Promise((resolve, reject) => http.get('http://10.0.0.1:8090' + p, (res) => { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve(b)); }).on('error', reject));
    (async () => { for (let i = 0; i < 20; i++) await get('/'); await get('/done'); })();`;
  const [ccmd, cargs] = nodeArgs(['-e', client]);
  const result = await run(ccmd, cargs, { IOTH_VNL: `vde://${hub}`, IOTH_CONFIG: 'eth,ip=10.0.0.2/24' });
  expect(result.stderr).toBe('');
  await ended;
  const report = JSON.parse(out.slice(out.indexOf('{')));
  expect(report.fromThread).toBe('main saw ::ffff:10.0.0.1');
  expect(report.workers).toBe(2);
  expect(report.pids).toHaveLength(2); // both cluster workers answered
}, 40000);
