// The whole stack resolver (createDns over a DnsTransport) with the host's own dgram and net
// sockets on 127.0.0.1, against the test DNS server there: no stack, no addon. Node's own resolver
// (c-ares) asks the same server in the same run, and its results and errors are the reference.
// Only 127.0.0.1 is used; without it (lo down) the file is skipped and says so.
// (The same resolver through a stack's sockets: test/stack/dns.test.ts.)
import * as dgram from 'node:dgram';
import * as nodeDns from 'node:dns';
import * as net from 'node:net';
import * as os from 'node:os';
import { getSystemErrorName, promisify } from 'node:util';
import type * as packet from 'dns-packet';
import { createDns, DnsTransport, StackDns } from '../../src/dns';
import { reverseName } from '../../src/dns/engine';
import { nodeHasTlsa } from '../../src/internal/node-reference';
import { call } from '../helpers/call';
import { DnsTestServer } from '../helpers/dns-server';
import { openFds } from '../helpers/procs';
import { until } from '../helpers/until';

const LOOPBACK = '127.0.0.1';
const loUp = Object.values(os.networkInterfaces()).flat().some((a) => a?.address === LOOPBACK);
if (!loUp) console.warn(`dns-loopback.test.ts skipped: this host has no ${LOOPBACK} (lo is down)`);

const ZONE: packet.Answer[] = [
  { name: 'www.example.test', type: 'A', ttl: 300, data: '10.53.0.10' },
  { name: 'www.example.test', type: 'A', ttl: 300, data: '10.53.0.11' },
  { name: 'www.example.test', type: 'AAAA', ttl: 120, data: 'fd00:53::10' },
  { name: 'alias.example.test', type: 'CNAME', ttl: 100, data: 'www.example.test' },
  { name: 'example.test', type: 'SOA', ttl: 3600, data: { mname: 'ns1.example.test', rname: 'hostmaster.example.test', serial: 2024010101, refresh: 3600, retry: 600, expire: 86400, minimum: 60 } },
  { name: 'example.test', type: 'NS', ttl: 3600, data: 'ns1.example.test' },
  { name: 'example.test', type: 'MX', ttl: 3600, data: { preference: 10, exchange: 'mail.example.test' } },
  { name: 'example.test', type: 'MX', ttl: 3600, data: { preference: 20, exchange: 'backup.example.test' } },
  { name: 'example.test', type: 'TXT', ttl: 3600, data: ['v=spf1 -all'] },
  { name: 'example.test', type: 'TXT', ttl: 3600, data: ['part one', 'part two'] },
  { name: 'example.test', type: 'CAA', ttl: 3600, data: { flags: 0, tag: 'issue', value: 'ca.example.test' } },
  { name: 'example.test', type: 'NAPTR', ttl: 3600, data: { order: 100, preference: 10, flags: 'S', services: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.test' } },
  { name: '_sip._tcp.example.test', type: 'SRV', ttl: 3600, data: { priority: 10, weight: 5, port: 5060, target: 'sip.example.test' } },
  { name: 'ptr.example.test', type: 'PTR', ttl: 3600, data: 'target.example.test' },
  { name: '_443._tcp.www.example.test', type: 'TLSA', ttl: 3600, data: { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.from('a1b2c3d4', 'hex') } },
  { name: '_443._tcp.www.example.test', type: 'A', ttl: 3600, data: '10.53.0.60' },
  { name: reverseName('10.53.0.10'), type: 'PTR', ttl: 3600, data: 'www.example.test' },
  { name: reverseName('10.53.0.1'), type: 'PTR', ttl: 3600, data: 'ns1.example.test' },
  { name: reverseName('fd00:53::10'), type: 'PTR', ttl: 3600, data: 'www6.example.test' },
  { name: 'v4only.example.test', type: 'A', ttl: 60, data: '10.53.0.20' },
  { name: 'dual.example.test', type: 'AAAA', ttl: 60, data: 'fd00:53::30' },
  { name: 'dual.example.test', type: 'A', ttl: 60, data: '10.53.0.30' },
  { name: 'txtonly.example.test', type: 'TXT', ttl: 60, data: 'no address here' },
  { name: 'host.corp.test', type: 'A', ttl: 60, data: '10.53.1.1' },
  { name: 'big.example.test', type: 'A', ttl: 60, data: '10.53.0.50' },
  { name: 'wrongid.example.test', type: 'A', ttl: 60, data: '10.53.0.40' },
  { name: 'spoofed.example.test', type: 'A', ttl: 60, data: '10.53.0.41' },
  { name: 'silent.example.test', type: 'A', ttl: 60, data: '10.53.0.42' },
];

/** The host's own sockets: UDP connected to the server, TCP to it, both on 127.0.0.1. */
const hostTransport: DnsTransport = {
  udpSocket: (family) => dgram.createSocket(family === 6 ? 'udp6' : 'udp4'),
  tcpConnect: (ip, port, localAddress) => net.connect({ host: ip, port, localAddress }),
};

/** Whether this host has a route to `address` (a UDP socket connects there), as glibc's sort asks. */
function routed(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const u = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
    u.on('error', () => { u.close(); resolve(false); });
    u.connect(9, address, () => { u.close(); resolve(true); });
  });
}

type Outcome = { value: unknown } | { error: { code?: string; syscall?: string; hostname?: string; message: string } };
// ArrayBuffers (TLSA data) as their bytes: Node's come from the main realm, which jest's
// equality cannot open; the tag shows that each side gives a real ArrayBuffer.
const comparable = (v: unknown): unknown => {
  if (Object.prototype.toString.call(v) === '[object ArrayBuffer]') return { ArrayBuffer: Buffer.from(v as ArrayBuffer).toString('hex') };
  if (Array.isArray(v)) return v.map(comparable);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, comparable(x)]));
  return v;
};

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    return { value: comparable(await p) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { hostname?: string };
    return { error: { code: err.code, syscall: err.syscall, hostname: err.hostname, message: err.message } };
  }
}

(loUp ? describe : describe.skip)(loUp ? `the resolver over ${LOOPBACK}` : `the resolver over ${LOOPBACK} (skipped: no ${LOOPBACK} here, lo is down)`, () => {
  let server: DnsTestServer;
  let failing: DnsTestServer; // SERVFAIL for www.example.test
  let at: string;
  let dns: StackDns;
  /** Node's own resolver, on the same server with the same timeout and tries. */
  const node = (options = { timeout: 1000, tries: 2 }, servers = [at]) => {
    const r = new nodeDns.Resolver(options);
    r.setServers(servers);
    return r;
  };
  const ours = (options = { timeout: 1000, tries: 2 }, servers = [at]) => {
    const r = new dns.Resolver(options);
    r.setServers(servers);
    return r;
  };
  /** The same call on both resolvers: the outcomes (results or errors) side by side. */
  type Options = { timeout: number; tries: number };
  async function both(method: keyof nodeDns.Resolver, args: unknown[], options?: Options, servers?: string[]) {
    const mine = ours(options, servers);
    const theirs = node(options, servers);
    return {
      ours: await outcome(call((mine[method as keyof typeof mine] as () => void).bind(mine), ...args)),
      node: await outcome(call((theirs[method] as () => void).bind(theirs), ...args)),
    };
  }

  beforeAll(async () => {
    const host = { dgram, net };
    server = await DnsTestServer.start(host, ZONE, 0, { 4: LOOPBACK });
    failing = await DnsTestServer.start(host, ZONE, 0, { 4: LOOPBACK });
    at = `${LOOPBACK}:${server.port}`;
    for (const [name, rcode] of [['servfail', 'SERVFAIL'], ['refused', 'REFUSED'], ['formerr', 'FORMERR'], ['notimp', 'NOTIMP']] as const) {
      server.rules.set(`${name}.example.test`, { rcode });
    }
    server.rules.set('silent.example.test', { silent: true });
    server.rules.set('big.example.test', { truncate: true });
    server.rules.set('wrongid.example.test', { wrongIdFirst: true });
    server.rules.set('spoofed.example.test', { otherPortFirst: true });
    failing.rules.set('www.example.test', { rcode: 'SERVFAIL' });
    dns = createDns(hostTransport, { servers: [at], timeout: 1000, tries: 2 });
  });
  afterAll(() => {
    server?.close();
    failing?.close();
  });

  describe('results and errors as Node\'s own resolver gives them', () => {
    test.each([
      ['resolve4', ['www.example.test']], ['resolve4', ['www.example.test', { ttl: true }]],
      ['resolve6', ['www.example.test']], ['resolve6', ['www.example.test', { ttl: true }]],
      ['resolveCname', ['alias.example.test']], ['resolve4', ['alias.example.test', { ttl: true }]],
      ['resolveMx', ['example.test']], ['resolveNs', ['example.test']], ['resolveSoa', ['example.test']],
      ['resolveTxt', ['example.test']], ['resolveCaa', ['example.test']], ['resolveNaptr', ['example.test']],
      ['resolveSrv', ['_sip._tcp.example.test']], ['resolvePtr', ['ptr.example.test']], ['resolve', ['example.test', 'MX']],
      ['resolve', ['www.example.test']], ['resolveAny', ['www.example.test']], ['reverse', ['10.53.0.10']], ['reverse', ['fd00:53::10']],
      ['resolve4', ['nowhere.example.test']], ['resolveMx', ['nowhere.example.test']], ['resolve4', ['txtonly.example.test']],
      ['resolve4', ['servfail.example.test']], ['resolve4', ['refused.example.test']], ['resolve4', ['formerr.example.test']],
      ['resolve4', ['notimp.example.test']], ['reverse', ['10.53.0.99']], ['resolve4', ['a..b.example.test']],
      ['resolve4', ['big.example.test']], ['resolve4', ['wrongid.example.test']], ['resolve4', ['spoofed.example.test']],
      // TLSA: resolveTlsa and resolve(, 'TLSA') where this Node has them (else both refuse alike).
      ...(nodeHasTlsa() ? [['resolveTlsa', ['_443._tcp.www.example.test']], ['resolveTlsa', ['www.example.test']]] : []),
      ['resolve', ['_443._tcp.www.example.test', 'TLSA']],
    ] as Array<[keyof nodeDns.Resolver, unknown[]]>)('%s %j', async (method, args) => {
      const r = await both(method, args);
      expect(r.ours).toEqual(r.node);
    });

    test('resolveAny of a name with every type: the same records (the order of types aside)', async () => {
      const r = await both('resolveAny', ['example.test']);
      const key = (x: object) => JSON.stringify(Object.entries(x).sort());
      const sorted = (o: Outcome) => ('value' in o ? (o.value as object[]).slice().sort((a, b) => key(a).localeCompare(key(b))) : o);
      expect(sorted(r.ours)).toEqual(sorted(r.node));
      expect((r.node as { value: unknown[] }).value).toHaveLength(8);
    });

    test('resolveAny of a name with TLSA and A records: TLSA listed (without type) only where this Node has resolveTlsa', async () => {
      const r = await both('resolveAny', ['_443._tcp.www.example.test']);
      const key = (x: object) => JSON.stringify(Object.entries(x).sort());
      const sorted = (o: Outcome) => ('value' in o ? (o.value as object[]).slice().sort((a, b) => key(a).localeCompare(key(b))) : o);
      expect(sorted(r.ours)).toEqual(sorted(r.node));
      expect((r.node as { value: unknown[] }).value).toHaveLength(nodeHasTlsa() ? 2 : 1);
    });

    test('a silent server: ETIMEOUT after the tries', async () => {
      const r = await both('resolve4', ['silent.example.test'], { timeout: 200, tries: 2 });
      expect(r.ours).toEqual(r.node);
      expect(r.ours).toMatchObject({ error: { code: 'ETIMEOUT' } });
    });

    test('nothing listening: ECONNREFUSED, at once', async () => {
      const closed = await new Promise<number>((resolve) => {
        const s = dgram.createSocket('udp4');
        s.bind(0, LOOPBACK, () => { const { port } = s.address(); s.close(() => resolve(port)); });
      });
      const start = Date.now();
      const r = await both('resolve4', ['www.example.test'], { timeout: 3000, tries: 2 }, [`${LOOPBACK}:${closed}`]);
      expect(Date.now() - start).toBeLessThan(3000);
      expect(r.ours).toEqual(r.node);
      expect(r.ours).toMatchObject({ error: { code: 'ECONNREFUSED' } });
    });

    test('a server that gives an error is left for the next one (where Node stops)', async () => {
      // A deliberate difference: Node sets c-ares's ARES_FLAG_NOCHECKRESP, so its resolver reports
      // the first server's SERVFAIL; the stack resolver asks the next server, as plain c-ares does.
      const before = failing.seen('www.example.test').length;
      const r = await both('resolve4', ['www.example.test'], undefined, [`${LOOPBACK}:${failing.port}`, at]);
      expect(r.ours).toEqual({ value: ['10.53.0.10', '10.53.0.11'] });
      expect(r.node).toMatchObject({ error: { code: 'ESERVFAIL' } });
      expect(failing.seen('www.example.test').length - before).toBe(2); // once by each resolver, not again
    });

    test('cancel(): ECANCELLED for the queries in flight', async () => {
      const mine = ours({ timeout: 5000, tries: 1 });
      const theirs = node({ timeout: 5000, tries: 1 });
      const pending = [outcome(call(mine.resolve4.bind(mine), 'silent.example.test')), outcome(call(theirs.resolve4.bind(theirs), 'silent.example.test'))];
      await Promise.resolve();
      mine.cancel();
      theirs.cancel();
      const [a, b] = await Promise.all(pending);
      expect(a).toEqual(b);
      expect(a).toMatchObject({ error: { code: 'ECANCELLED' } });
    });

    test('reverse() asks for the PTR name Node asks for', async () => {
      for (const ip of ['10.53.0.99', '192.0.2.255', 'fd00:53::99', '2001:db8::1:0:0:1', '::ffff:10.1.2.3']) {
        const before = server.queries.length;
        await outcome(call(node().reverse.bind(node()), ip));
        const asked = server.queries.slice(before).map((q) => q.name);
        expect(asked).toContain(reverseName(ip));
      }
    });
  });

  describe('the query on the wire', () => {
    test('a truncated UDP reply is asked again over TCP', async () => {
      const before = server.queries.length;
      expect(await call(dns.resolve4, 'big.example.test')).toEqual(['10.53.0.50']);
      expect(server.queries.slice(before).map((q) => q.via)).toEqual(['udp', 'tcp']);
    });

    test('each attempt waits `timeout` with a fresh id', async () => {
      const r = ours({ timeout: 200, tries: 2 });
      const before = server.seen('silent.example.test').length;
      const start = Date.now();
      await expect(call(r.resolve4.bind(r), 'silent.example.test')).rejects.toMatchObject({ code: 'ETIMEOUT' });
      const elapsed = Date.now() - start;
      expect(elapsed).toBeGreaterThanOrEqual(390);
      expect(elapsed).toBeLessThan(1500);
      const seen = server.seen('silent.example.test').slice(before);
      expect(seen).toHaveLength(2);
      expect(seen[0].id).not.toBe(seen[1].id);
    });

    test('query ids and source ports are random; every socket is closed after its query', async () => {
      const fds = openFds();
      const before = server.seen('v4only.example.test').length;
      for (let i = 0; i < 20; i++) await call(dns.resolve4, 'v4only.example.test');
      await call(dns.resolve4, 'big.example.test'); // UDP and TCP
      // Closing takes a loop turn or two (the server's side of the TCP connection too: it is in this process).
      await until('the sockets closed', () => openFds() <= fds, { timeout: 2000, interval: 5 });
      expect(openFds()).toBe(fds);
      const seen = server.seen('v4only.example.test').slice(before);
      expect(seen).toHaveLength(20);
      expect(new Set(seen.map((q) => q.id)).size).toBeGreaterThanOrEqual(15);
      expect(new Set(seen.map((q) => q.port)).size).toBeGreaterThanOrEqual(15);
    });

    test('no server configured: every query fails at once, saying so, and no socket is opened', async () => {
      let sockets = 0;
      const bare = createDns({
        udpSocket: (f) => { sockets++; return hostTransport.udpSocket(f); },
        tcpConnect: (ip, port) => { sockets++; return hostTransport.tcpConnect(ip, port); },
      });
      const error = { code: 'ECONNREFUSED', message: expect.stringMatching(/no DNS server is configured/) };
      await expect(call(bare.resolve4, 'www.example.test')).rejects.toMatchObject({ ...error, syscall: 'queryA' });
      // lookup() as getaddrinfo says it when no resolver answers (an empty network namespace).
      await expect(call(bare.lookup, 'www.example.test')).rejects.toMatchObject({ ...error, code: 'EAI_AGAIN', syscall: 'getaddrinfo' });
      await expect(bare.promises.resolveTxt('example.test')).rejects.toMatchObject({ ...error, syscall: 'queryTxt' });
      expect(await call(bare.lookup, 'localhost', 4)).toEqual(['127.0.0.1', 4]);
      expect(sockets).toBe(0);
    });
  });

  describe('search list and lookup through DNS', () => {
    test('short names try each suffix first, dotted ones the name first, a final dot only the name', async () => {
      const d = createDns(hostTransport, { servers: [at], search: ['nothere.test', 'corp.test'], timeout: 1000 });
      const asked = async (fn: () => Promise<unknown>) => {
        const from = server.queries.length;
        await fn().catch(() => undefined);
        return server.queries.slice(from).map((q) => q.name);
      };
      expect(await asked(() => call(d.resolve4, 'host'))).toEqual(['host.nothere.test', 'host.corp.test']);
      expect(await asked(() => call(d.resolve4, 'host.corp.test'))).toEqual(['host.corp.test']);
      expect(await asked(() => call(d.resolve4, 'host.'))).toEqual(['host']);
      expect(await call(d.lookup, 'host')).toEqual(['10.53.1.1', 4]);
    });

    test('families, all, order, V4MAPPED; getaddrinfo\'s errors with their errno', async () => {
      // getaddrinfo's order on this host: the IPv6 answer first (precedence) unless only IPv4 has a route here.
      const v4 = [{ address: '10.53.0.10', family: 4 }, { address: '10.53.0.11', family: 4 }];
      const v6 = [{ address: 'fd00:53::10', family: 6 }];
      const verbatim = (await routed('fd00:53::10')) || !(await routed('10.53.0.10')) ? [...v6, ...v4] : [...v4, ...v6];
      expect(await call(dns.lookup, 'www.example.test')).toEqual([verbatim[0].address, verbatim[0].family]);
      expect(await call(dns.lookup, 'www.example.test', 6)).toEqual(['fd00:53::10', 6]);
      expect(await call(dns.lookup, 'www.example.test', { all: true, order: 'verbatim' })).toEqual(verbatim);
      expect(await call(dns.lookup, 'www.example.test', { all: true, order: 'ipv4first' })).toEqual([...v4, ...v6]);
      expect(await call(dns.lookup, 'www.example.test', { all: true, order: 'ipv6first' })).toEqual([
        { address: 'fd00:53::10', family: 6 }, { address: '10.53.0.10', family: 4 }, { address: '10.53.0.11', family: 4 },
      ]);
      expect(await call(dns.lookup, 'v4only.example.test', { family: 6, hints: dns.V4MAPPED })).toEqual(['::ffff:10.53.0.20', 6]);
      const notFound = await outcome(call(dns.lookup, 'v4only.example.test', { family: 6 }));
      expect(notFound).toMatchObject({ error: { code: 'ENOTFOUND', syscall: 'getaddrinfo', message: 'getaddrinfo ENOTFOUND v4only.example.test' } });
      const again = await call(dns.lookup, 'servfail.example.test').catch((e: NodeJS.ErrnoException) => e);
      expect(again).toMatchObject({ code: 'EAI_AGAIN', syscall: 'getaddrinfo', hostname: 'servfail.example.test' });
      expect(getSystemErrorName((again as NodeJS.ErrnoException).errno!)).toBe('EAI_AGAIN');
    });

    test('lookupService: the PTR record, the service from the port', async () => {
      expect(await call(dns.lookupService, '10.53.0.1', 22)).toEqual(['ns1.example.test', 'ssh']);
      expect(await dns.promises.lookupService('fd00:53::10', 12345)).toEqual({ hostname: 'www6.example.test', service: '12345' });
      await expect(call(dns.lookupService, '10.53.0.99', 80)).rejects.toMatchObject({ code: 'ENOTFOUND', syscall: 'getnameinfo' });
    });
  });
});

// node:dns's surface beyond results: what util.promisify, the Resolver classes, the returned
// request objects, setServers() during queries, setLocalAddress() and malformed replies give,
// each compared with Node's own in this run (the same server on 127.0.0.1, the same hosts file).
(loUp ? describe : describe.skip)('as node:dns, compared with Node\'s own in this run', () => {
  let server: DnsTestServer;
  let at: string;
  let dns: StackDns;
  const node = (options: object = { timeout: 1000, tries: 2 }) => {
    const r = new nodeDns.Resolver(options);
    r.setServers([at]);
    return r;
  };
  const ours = (options: object = { timeout: 1000, tries: 2 }) => {
    const r = new dns.Resolver(options);
    r.setServers([at]);
    return r;
  };
  /** What a call throws: the error's class, code and message; null when it does not throw. */
  const thrown = (fn: () => unknown) => {
    try {
      fn();
      return null;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return { name: err.name, code: err.code, message: err.message };
    }
  };

  beforeAll(async () => {
    server = await DnsTestServer.start({ dgram, net }, ZONE, 0, { 4: LOOPBACK });
    at = `${LOOPBACK}:${server.port}`;
    server.rules.set('silent.example.test', { silent: true });
    server.rules.set('big.example.test', { truncate: true });
    const cut = (n: number) => (b: Buffer) => b.subarray(0, n);
    const count = (at16: number) => (b: Buffer) => { b.writeUInt16BE(0xffff, at16); return b; };
    server.rules.set('header.example.test', { rewrite: cut(12) }); // counts promise what is not there
    server.rules.set('short.example.test', { rewrite: cut(20) }); // cut inside the question
    server.rules.set('counts.example.test', { rewrite: count(6) }); // 65535 answers
    server.rules.set('qdcount.example.test', { rewrite: count(4) }); // 65535 questions
    server.rules.set('junk.example.test', { rewrite: (b) => Buffer.concat([b.subarray(0, 2), Buffer.alloc(98, 0xff)]) });
    server.rules.set('empty.example.test', { rewrite: () => Buffer.alloc(0) });
    dns = createDns(hostTransport, { servers: [at], timeout: 1000, tries: 2 });
  });
  afterAll(() => server?.close());

  test('util.promisify(lookup) gives { address, family } (a list with all), lookupService { hostname, service }', async () => {
    const pairs: Array<[string, unknown[]]> = [['lookup', ['localhost']], ['lookup', ['localhost', { all: true }]],
      ['lookup', ['127.0.0.1']], ['lookup', ['::1', { all: true }]], ['lookup', ['localhost', 4]], ['lookupService', ['127.0.0.1', 22]]];
    for (const [name, args] of pairs) {
      const theirs = promisify((nodeDns as unknown as Record<string, () => void>)[name]);
      const mine = promisify((dns as unknown as Record<string, () => void>)[name]);
      expect([name, args, await (mine as (...a: unknown[]) => Promise<unknown>)(...args)])
        .toEqual([name, args, await (theirs as (...a: unknown[]) => Promise<unknown>)(...args)]);
      expect([mine.name, mine.length]).toEqual([theirs.name, theirs.length]);
    }
    const promised = promisify(dns.lookup) as (hostname: string, options: object) => Promise<unknown>;
    expect(await promised('www.example.test', { order: 'ipv4first' })).toEqual({ address: '10.53.0.10', family: 4 });
    // A bad argument rejects the promise (promisify's executor catches it) in both.
    const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: NodeJS.ErrnoException) => e.code);
    const bad = (fn: unknown) => (promisify(fn as () => void) as (...a: unknown[]) => Promise<unknown>)(5);
    expect(await code(bad(dns.lookup))).toBe(await code(bad(nodeDns.lookup)));
    expect(await code(bad(dns.lookupService))).toBe(await code(bad(nodeDns.lookupService)));
  });

  test('Resolver: the query methods on its prototype, the rest on its base class\'s, as Node lays them out', () => {
    type Proto = Record<string, { length: number }>;
    const layout = (proto: object, names: string[]) => names.map((n) => {
      const d = Object.getOwnPropertyDescriptor(proto, n);
      return [n, typeof d?.value, d?.enumerable, d?.writable, (d?.value as { length?: number })?.length];
    });
    const pairs = [[dns.Resolver, nodeDns.Resolver], [dns.promises.Resolver, nodeDns.promises.Resolver]] as const;
    for (const [Ours, Theirs] of pairs) {
      for (const level of [0, 1]) {
        const protoOf = (C: { prototype: object }) =>
          (level ? Object.getPrototypeOf(C.prototype) as Proto : C.prototype as Proto);
        const mine = Object.getOwnPropertyNames(protoOf(Ours)).sort();
        const theirs = Object.getOwnPropertyNames(protoOf(Theirs)).sort();
        expect(theirs.filter((n) => !mine.includes(n))).toEqual([]);
        expect(mine.filter((n) => !theirs.includes(n))).toEqual([]);
        expect(layout(protoOf(Ours), mine)).toEqual(layout(protoOf(Theirs), mine));
      }
      expect([Ours.name, Ours.length, typeof Ours]).toEqual([Theirs.name, Theirs.length, typeof Theirs]);
      expect(new Ours()).toBeInstanceOf(Ours);
      const withoutNew = (C: unknown) => thrown(() => (C as () => void)())?.name;
      expect(withoutNew(Ours)).toBe(withoutNew(Theirs));
    }
  });

  test('new Resolver(options): the options Node takes, checked as Node checks them (maxTimeout where this Node has it)', () => {
    const values = [undefined, null, 'x', 5, {}, { timeout: 'x' }, { timeout: 1.5 }, { timeout: -2 }, { timeout: 2 ** 31 },
      { timeout: -1 }, { timeout: 0 }, { tries: 0 }, { tries: 'x' }, { tries: 2 }, { maxTimeout: 'x' }, { maxTimeout: -1 },
      { maxTimeout: 1.5 }, { maxTimeout: 2 ** 32 }, { maxTimeout: 0 }, { maxTimeout: 100 }, { timeout: 'x', maxTimeout: 'y' },
      { tries: 0, maxTimeout: 'y' }];
    for (const options of values) {
      expect([options, thrown(() => new dns.Resolver(options as never))])
        .toEqual([options, thrown(() => new nodeDns.Resolver(options as never))]);
      expect([options, thrown(() => new dns.promises.Resolver(options as never))])
        .toEqual([options, thrown(() => new nodeDns.promises.Resolver(options as never))]);
    }
  });

  test('lookup, lookupService and the query methods return a request object with the fields of Node\'s', async () => {
    const fields = (o: object) => Object.keys(o).filter((k) => k !== 'oncomplete');
    const settled: Array<Promise<void>> = [];
    const cb = () => {
      let done!: () => void;
      settled.push(new Promise<void>((r) => { done = r; }));
      return () => done();
    };
    const mine = ours();
    const theirs = node();
    const pairs: Array<[string, unknown, unknown]> = [
      ['lookup', dns.lookup('localhost', cb()), nodeDns.lookup('localhost', cb())],
      ['lookup all', dns.lookup('localhost', { all: true, family: 4 }, cb()), nodeDns.lookup('localhost', { all: true, family: 4 }, cb())],
      ['lookup of a literal', dns.lookup('127.0.0.1', cb()), nodeDns.lookup('127.0.0.1', cb())],
      ['lookup refused by libuv', dns.lookup('a'.repeat(300), cb()), nodeDns.lookup('a'.repeat(300), cb())],
      ['lookupService', dns.lookupService('127.0.0.1', 22, cb()), nodeDns.lookupService('127.0.0.1', 22, cb())],
      ['resolve4', mine.resolve4('www.example.test', cb()), theirs.resolve4('www.example.test', cb())],
      ['resolve6 ttl', mine.resolve6('www.example.test', { ttl: true }, cb()), theirs.resolve6('www.example.test', { ttl: true }, cb())],
      ['resolve MX', mine.resolve('example.test', 'MX', cb()), theirs.resolve('example.test', 'MX', cb())],
      ['reverse', mine.reverse('10.53.0.10', cb()), theirs.reverse('10.53.0.10', cb())],
    ];
    for (const [label, m, t] of pairs) {
      expect([label, typeof m, m === undefined]).toEqual([label, typeof t, t === undefined]);
      const pick = (o: unknown) => Object.fromEntries(fields(t as object).map((k) => [k, typeof (o as Record<string, unknown>)[k] === 'function' ? 'function' : (o as Record<string, unknown>)[k]]));
      expect([label, fields(m as object)]).toEqual([label, fields(t as object)]);
      expect([label, pick(m)]).toEqual([label, pick(t)]);
    }
    await Promise.all(settled);
  });

  test('setServers() while queries wait: ERR_DNS_SET_SERVERS_FAILED as Node\'s; after they end, or after cancel(), it works', async () => {
    const mine = ours({ timeout: 300, tries: 1 });
    const theirs = node({ timeout: 300, tries: 1 });
    const pending = [outcome(call(mine.resolve4.bind(mine), 'silent.example.test')), outcome(call(theirs.resolve4.bind(theirs), 'silent.example.test'))];
    for (const list of [['127.0.0.2'], ['127.0.0.3', '[::1]:5353'], []]) {
      const refused = thrown(() => mine.setServers(list));
      expect(refused).toEqual(thrown(() => theirs.setServers(list)));
      expect(refused).toMatchObject({ code: 'ERR_DNS_SET_SERVERS_FAILED' });
    }
    expect([mine.getServers(), theirs.getServers()]).toEqual([[at], [at]]); // unchanged
    // A bad address is refused first, as Node checks the list before c-ares is asked.
    expect(thrown(() => mine.setServers(['nope']))).toEqual(thrown(() => theirs.setServers(['nope'])));
    // The module's setServers() swaps its default resolver in Node: never refused for pending queries.
    const d = createDns(hostTransport, { servers: [at], timeout: 300, tries: 1 });
    const modulePending = outcome(call(d.resolve4, 'silent.example.test'));
    expect(thrown(() => d.setServers([at]))).toBeNull();
    const [a, b] = await Promise.all(pending);
    expect(a).toEqual(b);
    await modulePending;
    expect(thrown(() => mine.setServers([at]))).toEqual(thrown(() => theirs.setServers([at])));
    expect(thrown(() => mine.setServers([at]))).toBeNull();
    // cancel(): nothing is pending any more, at once.
    const cancelled = [outcome(call(mine.resolve4.bind(mine), 'silent.example.test')), outcome(call(theirs.resolve4.bind(theirs), 'silent.example.test'))];
    mine.cancel();
    theirs.cancel();
    expect(thrown(() => mine.setServers([at]))).toEqual(thrown(() => theirs.setServers([at])));
    const [c, e] = await Promise.all(cancelled);
    expect(c).toEqual(e);
    expect(c).toMatchObject({ error: { code: 'ECANCELLED' } });
  });

  test('setLocalAddress(): Node\'s checks, and the queries leave from that address (UDP and TCP)', async () => {
    const args: unknown[][] = [[], [1], ['x'], ['1.2.3.4'], ['::1'], ['1.2.3.4', '::1'], ['::1', '1.2.3.4'], ['1.2.3.4', '1.2.3.4'],
      ['::1', '::2'], ['1.2.3.4', 'x'], ['1.2.3.4', 5], [undefined, '::1'], ['1.2.3.4', undefined], ['1.2.3.4', null]];
    for (const a of args) {
      const f = (r: { setLocalAddress: (...x: never[]) => void }) => thrown(() => r.setLocalAddress(...(a as never[])));
      expect([a, f(ours())]).toEqual([a, f(node())]);
      expect([a, f(new dns.promises.Resolver())]).toEqual([a, f(new nodeDns.promises.Resolver())]);
    }
    const from = async (r: nodeDns.Resolver, name: string) => {
      const before = server.queries.length;
      const result = await outcome(call(r.resolve4.bind(r), name));
      return { result, from: server.queries.slice(before).map((q) => `${q.via} ${q.address}`) };
    };
    for (const local of [['127.0.0.2'], ['127.0.0.3', '::1'], ['::1']]) {
      const mine = ours();
      const theirs = node();
      mine.setLocalAddress(...(local as [string, string?]));
      theirs.setLocalAddress(...(local as [string, string?]));
      expect([local, await from(mine, 'www.example.test')]).toEqual([local, await from(theirs, 'www.example.test')]);
      expect([local, await from(mine, 'big.example.test')]).toEqual([local, await from(theirs, 'big.example.test')]); // UDP, then TCP
    }
    // An address the host does not have: the bind fails, so does the query (ECONNREFUSED), at once.
    const mine = ours({ timeout: 2000, tries: 2 });
    const theirs = node({ timeout: 2000, tries: 2 });
    mine.setLocalAddress('192.0.2.1');
    theirs.setLocalAddress('192.0.2.1');
    const start = Date.now();
    const [m, t] = await Promise.all([from(mine, 'www.example.test'), from(theirs, 'www.example.test')]);
    expect(m).toEqual(t);
    expect(m.result).toMatchObject({ error: { code: 'ECONNREFUSED' } });
    expect(Date.now() - start).toBeLessThan(1000);
  });

  /** resolve4(name) by both, at once: the outcomes and how long the slower took. */
  const race = async (name: string, options: object) => {
    const [mine, theirs] = [ours(options), node(options)];
    const start = Date.now();
    const [m, t] = await Promise.all([
      outcome(call(mine.resolve4.bind(mine), name)), outcome(call(theirs.resolve4.bind(theirs), name)),
    ]);
    return { m, t, ms: Date.now() - start };
  };

  test.each(['header', 'short', 'counts', 'qdcount', 'junk'])('a malformed reply (%s): EBADRESP at once, as c-ares', async (label) => {
    const name = `${label}.example.test`;
    const { m, t, ms } = await race(name, { timeout: 3000, tries: 2 });
    expect(m).toEqual(t);
    expect(m).toMatchObject({ error: { code: 'EBADRESP', syscall: 'queryA', hostname: name } });
    expect(ms).toBeLessThan(1000); // not the 2 × 3 s of the timeout
  });

  test('an empty datagram is no reply: both wait for the timeout', async () => {
    const { m, t, ms } = await race('empty.example.test', { timeout: 150, tries: 1 });
    expect(m).toEqual(t);
    expect(m).toMatchObject({ error: { code: 'ETIMEOUT' } });
    expect(ms).toBeGreaterThanOrEqual(140);
  });

  test('lookup() of a name getaddrinfo does not ask DNS for: Node\'s error, with or without a server', async () => {
    type Failure = NodeJS.ErrnoException & { hostname?: string };
    const failure = (p: Promise<unknown>) => p.then((v) => ({ value: v }), (e: Failure) =>
      ({ code: e.code, errno: e.errno, syscall: e.syscall, hostname: e.hostname, message: e.message }));
    const long = (n: number) => Array.from({ length: Math.ceil(n / 50) }, () => 'a'.repeat(49)).join('.').slice(0, n).replace(/\.$/, 'b');
    const names = ['*'.repeat(64), `${'a'.repeat(64)}.test`, 'a..b', '.a', '..', '-a.test', 'a b.test', '\u0001.test', 'a*b.test',
      long(254), long(255), `${long(254)}.`, long(256), long(400)];
    const bare = createDns(hostTransport);
    for (const name of names) {
      const theirs = await failure(promisify(nodeDns.lookup)(name));
      expect([name, await failure(dns.promises.lookup(name))]).toEqual([name, theirs]);
      expect([name, await failure(bare.promises.lookup(name))]).toEqual([name, theirs]);
      expect([name, await failure(promisify(bare.lookup)(name))]).toEqual([name, theirs]);
    }
  });
});
