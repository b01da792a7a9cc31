// The whole stack resolver (createDns over a DnsTransport) with the host's own dgram and net
// sockets on 127.0.0.1, against the test DNS server there: no stack, no addon. Node's own resolver
// (c-ares) asks the same server in the same run, and its results and errors are the reference.
// Only 127.0.0.1 is used; without it (lo down) the file is skipped and says so.
// (The same resolver through a stack's sockets: test/stack/dns.test.ts.)
import * as dgram from 'node:dgram';
import * as nodeDns from 'node:dns';
import * as net from 'node:net';
import * as os from 'node:os';
import { getSystemErrorName } from 'node:util';
import type * as packet from 'dns-packet';
import { createDns, DnsTransport, StackDns } from '../../src/dns';
import { reverseName } from '../../src/dns/engine';
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
  tcpConnect: (ip, port) => net.connect({ host: ip, port }),
};

type Outcome = { value: unknown } | { error: { code?: string; syscall?: string; hostname?: string; message: string } };
async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    return { value: await p };
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
      await expect(call(bare.lookup, 'www.example.test')).rejects.toMatchObject({ ...error, syscall: 'getaddrinfo' });
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
      expect(await call(dns.lookup, 'www.example.test')).toEqual(['10.53.0.10', 4]);
      expect(await call(dns.lookup, 'www.example.test', 6)).toEqual(['fd00:53::10', 6]);
      expect(await call(dns.lookup, 'www.example.test', { all: true, order: 'verbatim' })).toEqual([
        { address: '10.53.0.10', family: 4 }, { address: '10.53.0.11', family: 4 }, { address: 'fd00:53::10', family: 6 },
      ]);
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
