// Property-based tests of the entry points of stack.net, stack.dgram and stack.dns that take user
// input (fast-check; FC_SEED and FC_RUNS choose the seed and the number of inputs). Each call with
// hostile arguments either throws a coded error at once, or reaches an outcome within a bound: a
// connection, a listening socket, a result, or an error with a Node-style code. The stack has only
// `lo`, so every attempt ends quickly (refused, unreachable, no DNS answer) and nothing can leave.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as fc from 'fast-check';
import { Stack } from '../../src';
import { bounded, checkAsync, checkError, hostile as anyHostile, plausible, report, show, Tally } from '../helpers/fuzz';
import { openFds } from '../helpers/procs';
import { until } from '../helpers/until';

const nodeNet = net; // Node's own, in this private namespace: the oracle for errors thrown as Node throws them
const nodeDgram = dgram;
let stack: Stack;
let echo: net.Server;
let dir: string;
const PORT = 7000;
const BOUND_MS = 5000;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-fuzz-'));
  stack = new Stack('vdestack');
  stack.linkSetUpDown('lo', true);
  echo = stack.net.createServer((s) => s.on('error', () => {}).pipe(s));
  await new Promise<void>((resolve) => echo.listen(PORT, '127.0.0.1', resolve));
  // Names are asked of 127.0.0.1 on the stack, where nothing listens: refused at once.
  stack.dns.setServers(['127.0.0.1']);
});

afterAll(() => {
  echo?.close();
  stack?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  report('fuzz-sockets');
});

// (Without the values Node's own code takes seconds over: see test/fixtures/hostile.js.)
const hostile = () => anyHostile({ sparse: false, huge: false });
const host = fc.oneof(hostile(), fc.constantFrom('127.0.0.1', '::1', 'localhost', '10.9.9.9', '0.0.0.0', '::', 'nosuch.test',
  '224.0.0.1', '255.255.255.255', 'fe80::1', '::ffff:127.0.0.1', '', 'a..b', 'x'.repeat(300)));
const port = fc.oneof(hostile(), fc.constantFrom(PORT, 0, 1, 65535, 65536, -1, `${PORT}`, ' 7000 ', '0x1b58', 7000.5));
const value = fc.oneof({ arbitrary: hostile(), weight: 1 }, { arbitrary: plausible, weight: 2 });

/** Net/dgram/dns argument names an argument error may name. */
const NAMES = ['options', 'port', 'host', 'hostname', 'localAddress', 'localPort', 'family', 'timeout', 'msecs', 'hints',
  'all', 'order', 'verbatim', 'backlog', 'ipv6Only', 'type', 'address', 'offset', 'length', 'buffer', 'msg', 'callback',
  'listener', 'name', 'rrtype', 'ip', 'servers', 'dnsOrder', 'tries', 'lookup', 'keepAliveInitialDelay', 'allowHalfOpen',
  'noDelay', 'keepAlive', 'server', 'recvBufferSize', 'sendBufferSize', 'reuseAddr', 'signal', 'list', 'initialDelay'];

// Node treats a non-numeric string as a UNIX socket path: keep every path inside a directory of ours.
let paths = 0;
const pipeName = (v: unknown) => typeof v === 'string' && !/^\s*\d+\s*$/.test(v) && Number.isNaN(Number(v));
const safePath = (v: unknown) => (pipeName(v) ? path.join(dir, `p${paths++}`) : v);

test('stack.net: connect() and listen() with hostile arguments', async () => {
  const fds = openFds();
  const tally = new Tally();
  const connectArgs = fc.oneof(
    fc.tuple(port, host),
    fc.tuple(port),
    fc.tuple(fc.record({
      port, host, localAddress: host, localPort: port, family: value, timeout: value, allowHalfOpen: value,
      noDelay: value, keepAlive: value, keepAliveInitialDelay: value, hints: value,
    }, { requiredKeys: [] })),
  );
  await checkAsync('stack.net.connect', 400, fc.asyncProperty(connectArgs, async (args) => {
    const what = `stack.net.connect(${args.map(show).join(', ')})`;
    const asNode = () => { nodeNet.connect(...(args as [number, string])).on('error', () => {}).destroy(); };
    const outcome = await bounded<string>(BOUND_MS, what, (done) => {
      let socket: net.Socket;
      try {
        socket = stack.net.connect(...(args as [number, string]));
      } catch (err) {
        done(() => checkError(err, what, NAMES, asNode));
        return;
      }
      socket.once('connect', () => { socket.destroy(); done(() => 'connected'); });
      socket.once('error', (err) => { socket.destroy(); done(() => checkError(err, what, NAMES)); });
    });
    tally.add(outcome);
  }));

  const listenArgs = fc.oneof(
    fc.tuple(port, host, value),
    fc.tuple(port),
    fc.tuple(fc.record({ port, host, backlog: value, ipv6Only: value, exclusive: value }, { requiredKeys: [] })),
  );
  await checkAsync('stack.net listen', 300, fc.asyncProperty(listenArgs, fc.boolean(), async (given, viaNet) => {
    const args = [safePath(given[0]), ...given.slice(1)];
    const what = `listen(${args.map(show).join(', ')})`;
    const server = stack.net.createServer();
    const asNode = () => {
      const theirs = nodeNet.createServer().on('error', () => {});
      try {
        theirs.listen(...(args as [number]));
      } finally {
        theirs.close();
      }
    };
    const outcome = await bounded<string>(BOUND_MS, what, (done) => {
      server.once('listening', () => done(() => 'listening'));
      server.once('error', (err) => done(() => checkError(err, what, NAMES)));
      try {
        if (viaNet) stack.net.listen(server, ...(args as [number]));
        else server.listen(...(args as [number]));
      } catch (err) {
        done(() => checkError(err, what, NAMES, asNode));
      }
    });
    await new Promise<void>((resolve) => { if (server.listening) server.close(() => resolve()); else resolve(); });
    tally.add(outcome);
  }));

  await checkAsync('stack.net.listen(server)', 100, fc.asyncProperty(hostile(), async (server) => {
    try {
      stack.net.listen(server as net.Server, 0);
    } catch (err) {
      tally.add(checkError(err, 'stack.net.listen(hostile)', NAMES));
      return;
    }
    throw new Error(`stack.net.listen accepted ${show(server)} as a server`);
  }));

  console.log(`stack.net: ${JSON.stringify(tally.counts)}`);
  expect(tally.counts.connected).toBeGreaterThan(0);
  expect(tally.counts.listening).toBeGreaterThan(0);
  expect(tally.counts.ECONNREFUSED).toBeGreaterThan(0);
  await until('every socket closed', () => openFds() <= fds, { timeout: 2000, interval: 10 }); // closing takes loop turns
  expect(openFds()).toBeLessThanOrEqual(fds); // (jest may have had a file open at the start)
}, 120000);

test('stack.dgram: createSocket(), bind(), send(), connect() with hostile arguments', async () => {
  const fds = openFds();
  const tally = new Tally();
  const type = fc.oneof(hostile(), fc.constantFrom('udp4', 'udp6'),
    fc.record({ type: fc.oneof(hostile(), fc.constantFrom('udp4', 'udp6')), reuseAddr: value, ipv6Only: value,
      recvBufferSize: value, sendBufferSize: value }, { requiredKeys: ['type'] }));
  const message = fc.oneof(hostile(), fc.constantFrom('hello', Buffer.from('x'), ['a', Buffer.from('b')], Buffer.alloc(70000)));
  const action = fc.oneof(
    fc.tuple(fc.constant('bind'), fc.oneof(fc.tuple(port, host), fc.tuple(fc.record({ port, address: host, exclusive: value }, { requiredKeys: [] })))),
    fc.tuple(fc.constant('send'), fc.oneof(fc.tuple(message, port, host), fc.tuple(message, value, value, port, host))),
    fc.tuple(fc.constant('connect'), fc.tuple(port, host)),
  );
  await checkAsync('stack.dgram', 500, fc.asyncProperty(type, action, async (t, [verb, args]) => {
    const what = `createSocket(${show(t)}).${verb}(${(args as unknown[]).map(show).join(', ')})`;
    let socket: dgram.Socket | undefined;
    const act = (s: dgram.Socket, callback: (err?: Error | null) => void) => {
      if (verb === 'bind') s.bind(...(args as [number, string]), () => callback());
      else if (verb === 'send') s.send(...(args as [string, number, string]), callback);
      else s.connect(...(args as [number, string]), callback);
    };
    const asNode = () => {
      const theirs = nodeDgram.createSocket(t as dgram.SocketType).on('error', () => {});
      try {
        act(theirs, () => {});
      } finally {
        theirs.close();
      }
    };
    const outcome = await bounded<string>(BOUND_MS, what, (done) => {
      try {
        socket = stack.dgram.createSocket(t as dgram.SocketType);
      } catch (err) {
        done(() => `createSocket ${checkError(err, what, NAMES, () => nodeDgram.createSocket(t as dgram.SocketType).close())}`);
        return;
      }
      socket.once('error', (err) => done(() => checkError(err, what, NAMES)));
      try {
        act(socket, (err) => done(() => (err ? checkError(err, what, NAMES) : `${verb} ok`)));
      } catch (err) {
        done(() => checkError(err, what, NAMES, asNode));
      }
    });
    try {
      socket?.close();
    } catch { /* not running */ }
    tally.add(outcome);
  }));
  console.log(`stack.dgram: ${JSON.stringify(tally.counts)}`);
  for (const ok of ['bind ok', 'send ok', 'connect ok']) expect(tally.counts[ok]).toBeGreaterThan(0);
  await until('every socket closed', () => openFds() <= fds, { timeout: 2000, interval: 10 });
  expect(openFds()).toBeLessThanOrEqual(fds); // (jest may have had a file open at the start)
}, 120000);

test('stack.dns: every entry point with hostile arguments', async () => {
  const fds = openFds();
  const tally = new Tally();
  const resolver = new stack.dns.Resolver({ timeout: 300, tries: 1 });
  resolver.setServers(['127.0.0.1']);
  const name = fc.oneof(hostile(), fc.constantFrom('www.example.test', 'localhost', '127.0.0.1', '::1', 'a..b', '.', '',
    `${'a'.repeat(64)}.test`, `${'a.'.repeat(130)}test`, 'é.test', '\u{1F600}.test', 'x\0y'), fc.domain());
  const options = fc.oneof(value, fc.record(
    { family: value, hints: value, all: value, order: value, verbatim: value, ttl: value }, { requiredKeys: [] }));
  const methods = ['resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCaa', 'resolveCname', 'resolveMx', 'resolveNaptr',
    'resolveNs', 'resolvePtr', 'resolveSoa', 'resolveSrv', 'resolveTxt', 'reverse'] as const;
  const call = fc.oneof(
    fc.tuple(fc.constant('lookup'), fc.oneof(fc.tuple(name), fc.tuple(name, options))),
    fc.tuple(fc.constant('lookupService'), fc.tuple(host, port)),
    fc.tuple(fc.constantFrom(...methods), fc.oneof(fc.tuple(name), fc.tuple(name, fc.oneof(options, fc.constantFrom('A', 'MX', 'BOGUS', 'constructor')))))
  );
  type Api = Record<string, (...a: unknown[]) => unknown>;
  await checkAsync('stack.dns calls', 600, fc.asyncProperty(call, fc.constantFrom('callback', 'promise', 'no callback'), async ([method, args], style) => {
    const target = (method.startsWith('lookup') ? stack.dns : resolver) as unknown as Api;
    const promises = (method.startsWith('lookup') ? stack.dns.promises : new stack.dns.promises.Resolver({ timeout: 300, tries: 1 })) as unknown as Api & { setServers?(s: string[]): void };
    if (!method.startsWith('lookup')) promises.setServers?.(['127.0.0.1']);
    const what = `${style} ${method}(${(args as unknown[]).map(show).join(', ')})`;
    const outcome = await bounded<string>(BOUND_MS, what, (done) => {
      try {
        if (style === 'promise') {
          Promise.resolve(promises[method](...args)).then(() => done(() => 'ok'), (err) => done(() => checkError(err, what, NAMES)));
        } else if (style === 'callback') {
          target[method](...args, (err: Error | null) => done(() => (err ? checkError(err, what, NAMES) : 'ok')));
        } else {
          target[method](...args);
          done(() => {
            if (typeof (args as unknown[]).at(-1) !== 'function') throw new Error(`${what} was accepted without a callback`);
            return 'a hostile function as the callback';
          });
        }
      } catch (err) {
        done(() => checkError(err, what, NAMES));
      }
    });
    tally.add(outcome);
  }));

  // Configuration: a refused value changes nothing.
  const config = fc.oneof(
    fc.tuple(fc.constant('setServers'), fc.tuple(fc.oneof(hostile(), fc.array(fc.oneof(host, fc.constantFrom('10.0.0.1:53', '[::1]:5353', '1.2.3.4:0', '[::1', '[fe80::1%lo]:53')), { maxLength: 4 })))),
    fc.tuple(fc.constant('setDefaultResultOrder'), fc.tuple(fc.oneof(hostile(), fc.constantFrom('ipv4first', 'ipv6first', 'verbatim')))),
    fc.tuple(fc.constant('setSearch'), fc.tuple(fc.oneof(hostile(), fc.array(name, { maxLength: 3 })))),
    fc.tuple(fc.constant('Resolver'), fc.tuple(fc.oneof(hostile(), fc.record({ timeout: value, tries: value, maxTimeout: value }, { requiredKeys: [] })))),
    fc.tuple(fc.constant('hosts.add'), fc.tuple(name, host)),
  );
  const d = stack.dns;
  const state = () =>
    JSON.stringify([resolver.getServers(), d.getDefaultResultOrder(), d.getSearch(), d.hosts.entries()]);
  await checkAsync('stack.dns configuration', 400, fc.asyncProperty(config, async ([method, args]) => {
    const what = `${method}(${(args as unknown[]).map(show).join(', ')})`;
    const before = state();
    try {
      if (method === 'setServers') resolver.setServers(...(args as [string[]]));
      else if (method === 'setDefaultResultOrder') d.setDefaultResultOrder(...(args as ['verbatim']));
      else if (method === 'setSearch') d.setSearch(...(args as [string[]]));
      else if (method === 'Resolver') new d.Resolver(...(args as unknown as []));
      else d.hosts.add(...(args as [string, string]));
    } catch (err) {
      tally.add(`${method} ${checkError(err, what, NAMES)}`);
      if (state() !== before) throw new Error(`${what} was refused but changed the configuration`, { cause: err });
      return;
    }
    tally.add(`${method} ok`);
    resolver.setServers(['127.0.0.1']);
    d.setSearch([]);
    d.setDefaultResultOrder('verbatim');
  }));
  console.log(`stack.dns: ${JSON.stringify(tally.counts)}`);
  expect(tally.counts.ok).toBeGreaterThan(0);
  expect(tally.counts.ECONNREFUSED).toBeGreaterThan(0);
  await until('every socket closed', () => openFds() <= fds, { timeout: 2000, interval: 10 });
  expect(openFds()).toBeLessThanOrEqual(fds); // (jest may have had a file open at the start)
}, 120000);
