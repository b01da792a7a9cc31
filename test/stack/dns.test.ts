// The stack DNS resolver (src/dns) against a real authoritative server: two vdestack stacks on a
// hub, the test DNS server on one (test/helpers/dns-server.ts), the resolver on the other with its
// sockets from stack.dgram and stack.net. Results, errors and argument checks are compared with node:dns's.
import * as nodeDns from 'node:dns';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as packet from 'dns-packet';
import { Stack } from '../../src';
import { createDns, DnsTransport, StackDns } from '../../src/dns';
import { DnsTestServer } from '../helpers/dns-server';
import { openFds } from '../helpers/procs';
import { until } from '../helpers/until';
import { asNode } from '../helpers/node-records';

const SERVER4 = '10.53.0.1';
const CLIENT4 = '10.53.0.2';
const SERVER6 = 'fd00:53::1';
const CLIENT6 = 'fd00:53::2';

const SOA = {
  mname: 'ns1.example.test', rname: 'hostmaster.example.test', serial: 2024010101, refresh: 3600, retry: 600,
  expire: 86400, minimum: 60,
};
const ZONE: packet.Answer[] = [
  { name: 'www.example.test', type: 'A', ttl: 300, data: '10.53.0.10' },
  { name: 'www.example.test', type: 'A', ttl: 300, data: '10.53.0.11' },
  { name: 'www.example.test', type: 'AAAA', ttl: 120, data: 'fd00:53::10' },
  { name: 'alias.example.test', type: 'CNAME', ttl: 100, data: 'www.example.test' },
  { name: 'example.test', type: 'SOA', ttl: 3600, data: SOA },
  { name: 'example.test', type: 'NS', ttl: 3600, data: 'ns1.example.test' },
  { name: 'example.test', type: 'NS', ttl: 3600, data: 'ns2.example.test' },
  { name: 'example.test', type: 'MX', ttl: 3600, data: { preference: 10, exchange: 'mail.example.test' } },
  { name: 'example.test', type: 'MX', ttl: 3600, data: { preference: 20, exchange: 'backup.example.test' } },
  { name: 'example.test', type: 'TXT', ttl: 3600, data: ['v=spf1 -all'] },
  { name: 'example.test', type: 'TXT', ttl: 3600, data: ['part one', 'part two'] },
  { name: 'example.test', type: 'CAA', ttl: 3600, data: { flags: 0, tag: 'issue', value: 'ca.example.test' } },
  { name: 'example.test', type: 'CAA', ttl: 3600, data: { flags: 128, tag: 'iodef', value: 'mailto:sec@example.test' } },
  {
    name: 'example.test', type: 'NAPTR', ttl: 3600,
    data: { order: 100, preference: 10, flags: 'S', services: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.test' },
  },
  { name: '_sip._tcp.example.test', type: 'SRV', ttl: 3600, data: { priority: 10, weight: 5, port: 5060, target: 'sip.example.test' } },
  { name: 'ptr.example.test', type: 'PTR', ttl: 3600, data: 'target.example.test' },
  { name: '10.0.53.10.in-addr.arpa', type: 'PTR', ttl: 3600, data: 'www.example.test' },
  { name: '1.0.53.10.in-addr.arpa', type: 'PTR', ttl: 3600, data: 'ns1.example.test' },
  { name: `${[...'fd000053000000000000000000000010'].reverse().join('.')}.ip6.arpa`, type: 'PTR', ttl: 3600, data: 'www6.example.test' },
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

let dir: string;
let serverStack: Stack;
let clientStack: Stack;
let server: DnsTestServer;
let failing: DnsTestServer; // on port 5300: SERVFAIL for everything asked of it in the failover test
let transport: DnsTransport;
let dns: StackDns;

/** The transport Stack#dns uses (stack.dgram and stack.net), plus a name of the stack's own. */
function stackTransport(stack: Stack): DnsTransport {
  return {
    udpSocket: (family) => stack.dgram.createSocket(family === 6 ? 'udp6' : 'udp4'),
    tcpConnect: (ip, port, localAddress) => stack.net.connect({ port, host: ip, localAddress }),
    hosts: () => [{ name: 'client.stack', address: CLIENT4 }],
    interfaces: () => stack.interfaces(),
  };
}

function counting(inner: DnsTransport): DnsTransport & { sockets: number } {
  const t = {
    sockets: 0,
    udpSocket: (family: 4 | 6) => { t.sockets++; return inner.udpSocket(family); },
    tcpConnect: (ip: string, port: number) => { t.sockets++; return inner.tcpConnect(ip, port); },
  };
  return t;
}

/** node:dns or a stack's dns, seen as members that are functions or classes accepting anything. */
interface LooseModule { [name: string]: LooseMember }
type LooseMember = ((...args: unknown[]) => unknown) & (new (...args: unknown[]) => unknown) & LooseModule;

/** A node-style callback call as a promise of its results (one value, or the list of them). */
function call<T = unknown>(fn: (...args: never[]) => unknown, ...args: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    (fn as (...a: unknown[]) => unknown)(...args, (err: Error | null, ...results: unknown[]) =>
      (err ? reject(err) : resolve((results.length > 1 ? results : results[0]) as T)));
  });
}

function stackOn(vnl: string): Stack {
  const s = new Stack('vdestack', vnl);
  s.linkSetUpDown('lo', true);
  return s;
}


beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-dns-'));
  serverStack = stackOn(`hub://${dir}/hub`);
  clientStack = stackOn(`vde://${dir}/hub`);
  // configAsync returns with the IPv6 addresses past duplicate address detection: both at once.
  await Promise.all([serverStack.configAsync(`eth,ip=${SERVER4}/24,ip=${SERVER6}/64`), clientStack.configAsync(`eth,ip=${CLIENT4}/24,ip=${CLIENT6}/64`)]);
  server = await DnsTestServer.start(serverStack, ZONE);
  failing = await DnsTestServer.start(serverStack, ZONE, 5300);
  server.rules.set('servfail.example.test', { rcode: 'SERVFAIL' });
  server.rules.set('refused.example.test', { rcode: 'REFUSED' });
  server.rules.set('formerr.example.test', { rcode: 'FORMERR' });
  server.rules.set('notimp.example.test', { rcode: 'NOTIMP' });
  server.rules.set('silent.example.test', { silent: true });
  server.rules.set('big.example.test', { truncate: true });
  server.rules.set('wrongid.example.test', { wrongIdFirst: true });
  server.rules.set('spoofed.example.test', { otherPortFirst: true });
  failing.rules.set('www.example.test', { rcode: 'SERVFAIL' });
  transport = stackTransport(clientStack);
  // (No hosts file: the loopback names and the stack's own, whatever this host's /etc/hosts says.)
  dns = createDns(transport, { servers: [SERVER4], timeout: 1000, tries: 2, hostsFile: null });
});

afterAll(() => {
  server?.close();
  failing?.close();
  clientStack?.close();
  serverStack?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('resolve*', () => {
  test('every record type, in node:dns shapes', async () => {
    const r = await Promise.all([
      call(dns.resolve4, 'www.example.test'),
      call(dns.resolve4, 'www.example.test', { ttl: true }),
      call(dns.resolve6, 'www.example.test'),
      call(dns.resolve6, 'www.example.test', { ttl: true }),
      call(dns.resolveCname, 'alias.example.test'),
      call(dns.resolve4, 'alias.example.test', { ttl: true }),
      call(dns.resolveMx, 'example.test'),
      call(dns.resolveNs, 'example.test'),
      call(dns.resolveSoa, 'example.test'),
      call(dns.resolveTxt, 'example.test'),
      call(dns.resolveCaa, 'example.test'),
      call(dns.resolveNaptr, 'example.test'),
      call(dns.resolveSrv, '_sip._tcp.example.test'),
      call(dns.resolvePtr, 'ptr.example.test'),
      call(dns.resolve, 'example.test', 'MX'),
      call(dns.resolve, 'www.example.test'),
    ]);
    expect(r).toEqual([
      ['10.53.0.10', '10.53.0.11'],
      [{ address: '10.53.0.10', ttl: 300 }, { address: '10.53.0.11', ttl: 300 }],
      ['fd00:53::10'],
      [{ address: 'fd00:53::10', ttl: 120 }],
      ['www.example.test'],
      [{ address: '10.53.0.10', ttl: 100 }, { address: '10.53.0.11', ttl: 100 }], // the CNAME's smaller TTL
      asNode('MX', { exchange: 'mail.example.test', priority: 10 }, { exchange: 'backup.example.test', priority: 20 }),
      ['ns1.example.test', 'ns2.example.test'],
      { nsname: 'ns1.example.test', hostmaster: 'hostmaster.example.test', serial: 2024010101, refresh: 3600, retry: 600, expire: 86400, minttl: 60 },
      [['v=spf1 -all'], ['part one', 'part two']],
      asNode('CAA', { critical: 0, issue: 'ca.example.test' }, { critical: 128, iodef: 'mailto:sec@example.test' }),
      [{ flags: 'S', service: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.test', order: 100, preference: 10 }],
      asNode('SRV', { name: 'sip.example.test', port: 5060, priority: 10, weight: 5 }),
      ['target.example.test'],
      asNode('MX', { exchange: 'mail.example.test', priority: 10 }, { exchange: 'backup.example.test', priority: 20 }),
      ['10.53.0.10', '10.53.0.11'],
    ]);
  });

  test('resolveAny lists every record with its type, as node:dns does', async () => {
    const any = await call<unknown[]>(dns.resolveAny, 'example.test');
    expect(any).toHaveLength(10);
    expect(any).toEqual(expect.arrayContaining([
      { type: 'SOA', nsname: 'ns1.example.test', hostmaster: 'hostmaster.example.test', serial: 2024010101, refresh: 3600, retry: 600, expire: 86400, minttl: 60 },
      { type: 'NS', value: 'ns1.example.test' },
      { type: 'MX', exchange: 'backup.example.test', priority: 20 },
      { type: 'TXT', entries: ['part one', 'part two'] },
      { type: 'CAA', critical: 128, iodef: 'mailto:sec@example.test' },
      { type: 'NAPTR', flags: 'S', service: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.test', order: 100, preference: 10 },
    ]));
    expect(await call(dns.resolveAny, 'www.example.test')).toEqual([
      { type: 'A', address: '10.53.0.10', ttl: 300 },
      { type: 'A', address: '10.53.0.11', ttl: 300 },
      { type: 'AAAA', address: 'fd00:53::10', ttl: 120 },
    ]);
  });

  test('reverse: PTR records for IPv4 and IPv6, the hosts table first', async () => {
    const before = server.queries.length;
    expect(await call(dns.reverse, '127.0.0.1')).toEqual(['localhost']);
    expect(await call(dns.reverse, '::1')).toEqual(['localhost', 'ip6-localhost', 'ip6-loopback']);
    expect(server.queries.length).toBe(before); // from the hosts table
    expect(await call(dns.reverse, '10.53.0.10')).toEqual(['www.example.test']);
    expect(await call(dns.reverse, 'fd00:53::10')).toEqual(['www6.example.test']);
    await expect(call(dns.reverse, '10.53.0.99')).rejects.toMatchObject({
      code: 'ENOTFOUND', syscall: 'getHostByAddr', hostname: '10.53.0.99', message: 'getHostByAddr ENOTFOUND 10.53.0.99',
    });
  });

  test.each([
    ['nowhere.example.test', 'ENOTFOUND'], // NXDOMAIN
    ['txtonly.example.test', 'ENODATA'], // the name exists, without A records
    ['servfail.example.test', 'ESERVFAIL'],
    ['refused.example.test', 'EREFUSED'],
    ['formerr.example.test', 'EFORMERR'],
    ['notimp.example.test', 'ENOTIMP'],
    ['a..b.example.test', 'EBADNAME'],
  ])('%s fails with %s, as node:dns reports it', async (name, code) => {
    await expect(call(dns.resolve4, name)).rejects.toMatchObject({
      code, syscall: 'queryA', hostname: name, message: `queryA ${code} ${name}`,
    });
    await expect(call(dns.resolveMx, name)).rejects.toMatchObject({ syscall: 'queryMx', hostname: name });
  });

  test('a server that gives an error is left for the next one', async () => {
    const r = new dns.Resolver({ timeout: 1000, tries: 2 });
    r.setServers([`${SERVER4}:5300`, SERVER4]);
    expect(await call(r.resolve4.bind(r), 'www.example.test')).toEqual(['10.53.0.10', '10.53.0.11']);
    expect(failing.seen('www.example.test')).toHaveLength(1); // SERVFAIL once, not asked again
  });

  test('ICMP port unreachable ends the attempt at once: ECONNREFUSED', async () => {
    const r = new dns.Resolver({ timeout: 3000, tries: 2 });
    r.setServers([`${SERVER4}:5301`]);
    const start = Date.now();
    await expect(call(r.resolve4.bind(r), 'www.example.test')).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'queryA' });
    expect(Date.now() - start).toBeLessThan(2000);
  });
});

describe('the query on the wire', () => {
  test('timeout and tries: each attempt waits `timeout`, then ETIMEOUT', async () => {
    const r = new dns.Resolver({ timeout: 200, tries: 2 });
    r.setServers([SERVER4]);
    const start = Date.now();
    await expect(call(r.resolve4.bind(r), 'silent.example.test')).rejects.toMatchObject({
      code: 'ETIMEOUT', syscall: 'queryA', hostname: 'silent.example.test', message: 'queryA ETIMEOUT silent.example.test',
    });
    const elapsed = Date.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(1500);
    const seen = server.seen('silent.example.test');
    expect(seen).toHaveLength(2);
    expect(seen[0].id).not.toBe(seen[1].id);
  });

  test('cancel() ends the queries in flight with ECANCELLED', async () => {
    const r = new dns.Resolver({ timeout: 5000, tries: 1 });
    r.setServers([SERVER4]);
    const pending = call(r.resolve4.bind(r), 'silent.example.test');
    setTimeout(() => r.cancel(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'ECANCELLED', syscall: 'queryA', hostname: 'silent.example.test' });
  });

  test('a truncated UDP reply is asked again over TCP', async () => {
    expect(await call(dns.resolve4, 'big.example.test')).toEqual(['10.53.0.50']);
    expect(server.seen('big.example.test').map((q) => q.via)).toEqual(['udp', 'tcp']);
  });

  test('replies with a wrong id or from another port are ignored, the genuine one accepted', async () => {
    expect(await call(dns.resolve4, 'wrongid.example.test')).toEqual(['10.53.0.40']);
    expect(await call(dns.resolve4, 'spoofed.example.test')).toEqual(['10.53.0.41']);
  });

  test('query ids and source ports are random; every socket is closed after its query', async () => {
    const fds = openFds();
    for (let i = 0; i < 20; i++) await call(dns.resolve4, 'v4only.example.test');
    await call(dns.resolve4, 'big.example.test'); // UDP and TCP
    await until('every socket closed', () => openFds() <= fds, { timeout: 2000, interval: 5 }); // closing takes a loop turn
    expect(openFds()).toBe(fds);
    const seen = server.seen('v4only.example.test');
    expect(seen.length).toBeGreaterThanOrEqual(20);
    expect(new Set(seen.map((q) => q.id)).size).toBeGreaterThanOrEqual(15);
    expect(new Set(seen.map((q) => q.port)).size).toBeGreaterThanOrEqual(15);
    expect(seen.every((q) => q.address === CLIENT4)).toBe(true); // through the client stack
  });

  test('over IPv6: the server at its IPv6 address, UDP and the TCP fallback', async () => {
    const r = new dns.Resolver({ timeout: 1000, tries: 2 });
    r.setServers([`[${SERVER6}]:53`]);
    expect(r.getServers()).toEqual([SERVER6]);
    const before = server.queries.length;
    expect(await call(r.resolveMx.bind(r), 'example.test')).toHaveLength(2);
    expect(await call(r.resolve4.bind(r), 'big.example.test')).toEqual(['10.53.0.50']);
    expect(server.queries.slice(before).map((q) => [q.via, q.address])).toEqual([
      ['udp', CLIENT6], ['udp', CLIENT6], ['tcp', CLIENT6],
    ]);
  });

  test('no server configured: every query fails at once, saying so, and nothing is sent', async () => {
    const t = counting(transport);
    const bare = createDns(t);
    const before = server.queries.length;
    expect(bare.getServers()).toEqual([]);
    const error = { code: 'ECONNREFUSED', message: expect.stringMatching(/no DNS server is configured/) };
    await expect(call(bare.resolve4, 'www.example.test')).rejects.toMatchObject({ ...error, syscall: 'queryA' });
    // lookup() and lookupService() as getaddrinfo/getnameinfo say it when no resolver answers.
    await expect(call(bare.lookup, 'www.example.test')).rejects.toMatchObject({ ...error, code: 'EAI_AGAIN', syscall: 'getaddrinfo' });
    await expect(call(bare.lookupService, '10.53.0.1', 22)).rejects.toMatchObject({ ...error, code: 'EAI_AGAIN', syscall: 'getnameinfo' });
    await expect(bare.promises.resolveTxt('example.test')).rejects.toMatchObject({ ...error, syscall: 'queryTxt' });
    expect(await call(bare.lookup, 'localhost', 4)).toEqual(['127.0.0.1', 4]); // the hosts table still answers
    expect(t.sockets).toBe(0);
    expect(server.queries.length).toBe(before);
  });

  test('a closed stack: its error, not a timeout', async () => {
    const closed = new Stack('vdestack');
    closed.close();
    const d = createDns(stackTransport(closed), { servers: [SERVER4] });
    await expect(call(d.resolve4, 'www.example.test')).rejects.toMatchObject({ code: 'ERR_IOTH_STACK_CLOSED' });
    await expect(d.promises.lookup('www.example.test')).rejects.toMatchObject({ code: 'ERR_IOTH_STACK_CLOSED' });
  });
});

describe('as node:dns on the host', () => {
  test('a stack without dns= has no servers; a name not in the hosts table: EAI_AGAIN at once, as Node with no reachable resolver', async () => {
    // (This run's network namespace has no route to any resolver of the host: Node's own fails too.)
    expect(clientStack.dns.getServers()).toEqual([]);
    const fields = (e: NodeJS.ErrnoException & { hostname?: string }) =>
      ({ code: e.code, errno: e.errno, syscall: e.syscall, hostname: e.hostname });
    const theirs = await call(nodeDns.lookup, 'nothere.example').catch(fields);
    const start = Date.now();
    expect(await call(clientStack.dns.lookup, 'nothere.example').catch(fields)).toEqual(theirs);
    expect(Date.now() - start).toBeLessThan(100);
    // localhost as the host's /etc/hosts has it.
    const sorted = (list: Array<{ address: string }>) => list.map((a) => a.address).sort();
    expect(sorted(await call(clientStack.dns.lookup, 'localhost', { all: true }))).toEqual(sorted(await call(nodeDns.lookup, 'localhost', { all: true })));
  });

  test('net.connect() to a host name getaddrinfo refuses: ENOTFOUND with Node\'s fields, on the stack as on the host', async () => {
    type Failure = NodeJS.ErrnoException & { hostname?: string };
    const failure = (s: net.Socket) => new Promise<object>((resolve) => s.once('error', (e: Failure) => resolve({
      name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, hostname: e.hostname, message: e.message,
      keys: Object.keys(e),
    })));
    for (const host of ['*'.repeat(64), `${'a'.repeat(64)}.test`, 'a..b']) {
      const theirs = await failure(net.connect({ host, port: 80 }));
      expect(await failure(clientStack.net.connect({ host, port: 80 }))).toEqual(theirs);
      expect(theirs).toMatchObject({ code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: host });
    }
  });

  test('setLocalAddress(): the queries leave from that address of the stack, over UDP and TCP', async () => {
    clientStack.ipAddrAdd('10.53.0.3', 24, 'vde0');
    try {
      const r = new clientStack.dns.Resolver({ timeout: 1000, tries: 1 }); // Stack#dns's own transport
      r.setServers([SERVER4]);
      r.setLocalAddress('10.53.0.3');
      const before = server.queries.length;
      expect(await call(r.resolve4.bind(r), 'www.example.test')).toEqual(['10.53.0.10', '10.53.0.11']);
      expect(await call(r.resolve4.bind(r), 'big.example.test')).toEqual(['10.53.0.50']);
      expect(server.queries.slice(before).map((q) => `${q.via} ${q.address}`)).toEqual(['udp 10.53.0.3', 'udp 10.53.0.3', 'tcp 10.53.0.3']);
      // An address the stack does not have: the query fails at once, as c-ares's when its bind fails.
      r.setLocalAddress('10.99.0.1');
      await expect(call(r.resolve4.bind(r), 'www.example.test')).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'queryA' });
    } finally {
      clientStack.ipAddrDel('10.53.0.3', 24, 'vde0');
    }
  });
});

describe('search domains', () => {
  test('short names try each suffix first, dotted ones the name first, a trailing dot only the name', async () => {
    const d = createDns(transport, { servers: [SERVER4], search: ['nothere.test', 'corp.test'], timeout: 1000 });
    const from = server.queries.length;
    expect(await call(d.resolve4, 'host')).toEqual(['10.53.1.1']);
    expect(server.queries.slice(from).map((q) => q.name)).toEqual(['host.nothere.test', 'host.corp.test']);

    const mid = server.queries.length;
    expect(await call(d.resolve4, 'host.corp.test')).toEqual(['10.53.1.1']);
    expect(server.queries.slice(mid).map((q) => q.name)).toEqual(['host.corp.test']);

    const last = server.queries.length;
    await expect(call(d.resolve4, 'host.')).rejects.toMatchObject({ code: 'ENOTFOUND', hostname: 'host.' });
    expect(server.queries.slice(last).map((q) => q.name)).toEqual(['host']);

    expect(await call(d.lookup, 'host')).toEqual(['10.53.1.1', 4]);
    await expect(call(d.resolve4, 'txtonly.example')).rejects.toMatchObject({ code: 'ENOTFOUND', hostname: 'txtonly.example' });
  });
});

describe('lookup', () => {
  test('families, all, and the answer for one address', async () => {
    // getaddrinfo's order: both families reachable on the link, IPv6's precedence (40) is IPv4's (10).
    expect(await call(dns.lookup, 'www.example.test')).toEqual(['fd00:53::10', 6]);
    expect(await call(dns.lookup, 'www.example.test', { order: 'ipv4first' })).toEqual(['10.53.0.10', 4]);
    expect(await call(dns.lookup, 'www.example.test', 6)).toEqual(['fd00:53::10', 6]);
    expect(await call(dns.lookup, 'www.example.test', { family: 'IPv4', all: true })).toEqual([
      { address: '10.53.0.10', family: 4 }, { address: '10.53.0.11', family: 4 },
    ]);
    expect(await call(dns.lookup, 'www.example.test', { family: 0, all: true, order: 'ipv6first' })).toEqual([
      { address: 'fd00:53::10', family: 6 }, { address: '10.53.0.10', family: 4 }, { address: '10.53.0.11', family: 4 },
    ]);
    expect(await call(dns.lookup, 'v4only.example.test', { family: 6, hints: dns.V4MAPPED })).toEqual(['::ffff:10.53.0.20', 6]);
    await expect(call(dns.lookup, 'v4only.example.test', { family: 6 })).rejects.toMatchObject({
      code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: 'v4only.example.test',
      message: 'getaddrinfo ENOTFOUND v4only.example.test',
    });
    await expect(call(dns.lookup, 'servfail.example.test')).rejects.toMatchObject({
      code: 'EAI_AGAIN', errno: -3001, syscall: 'getaddrinfo', hostname: 'servfail.example.test',
    });
  });

  test('order: ipv4first, ipv6first, verbatim, the legacy verbatim flag and the default order', async () => {
    const d = createDns(transport, { servers: [SERVER4], hosts: [{ name: 'mixed.test', address: 'fd00::1' }, { name: 'mixed.test', address: '10.0.0.1' }] });
    const v6 = { address: 'fd00::1', family: 6 };
    const v4 = { address: '10.0.0.1', family: 4 };
    expect(await call(d.lookup, 'mixed.test', { all: true, order: 'verbatim' })).toEqual([v6, v4]);
    expect(await call(d.lookup, 'mixed.test', { all: true, order: 'ipv4first' })).toEqual([v4, v6]);
    expect(await call(d.lookup, 'mixed.test', { all: true, order: 'ipv6first' })).toEqual([v6, v4]);
    expect(await call(d.lookup, 'mixed.test', { all: true, verbatim: false })).toEqual([v4, v6]);
    expect(await call(d.lookup, 'mixed.test', { all: true, verbatim: true })).toEqual([v6, v4]);
    expect(d.getDefaultResultOrder()).toBe(nodeDns.getDefaultResultOrder());
    d.setDefaultResultOrder('ipv4first');
    expect(await call(d.lookup, 'mixed.test')).toEqual(['10.0.0.1', 4]);
    expect(await d.promises.lookup('dual.example.test')).toEqual({ address: '10.53.0.30', family: 4 });
    d.setDefaultResultOrder('ipv6first');
    expect(await call(d.lookup, 'mixed.test')).toEqual(['fd00::1', 6]);
    expect(await d.promises.lookup('dual.example.test')).toEqual({ address: 'fd00:53::30', family: 6 });
  });

  test('literals and the hosts table answer without a query; callbacks always come later', async () => {
    const before = server.queries.length;
    expect(await call(dns.lookup, '10.1.2.3')).toEqual(['10.1.2.3', 4]);
    expect(await call(dns.lookup, '::1', { all: true })).toEqual([{ address: '::1', family: 6 }]);
    expect(await call(dns.lookup, 'localhost', { all: true, order: 'verbatim' })).toEqual([
      { address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 },
    ]);
    expect(await call(dns.lookup, 'LOCALHOST.', 6)).toEqual(['::1', 6]);
    expect(await call(dns.lookup, 'client.stack')).toEqual([CLIENT4, 4]); // transport.hosts()
    dns.hosts.add('db.internal', '10.9.9.9');
    expect(await call(dns.lookup, 'db.internal')).toEqual(['10.9.9.9', 4]);
    expect(dns.hosts.delete('db.internal')).toBe(true);
    expect(server.queries.length).toBe(before);

    let synchronous = true;
    const calls: string[] = [];
    const done = Promise.all([
      new Promise<void>((r) => dns.lookup('10.1.2.3', () => { calls.push(`literal ${synchronous}`); r(); })),
      new Promise<void>((r) => dns.lookup('localhost', () => { calls.push(`hosts ${synchronous}`); r(); })),
      new Promise<void>((r) => dns.resolve4('a..b', () => { calls.push(`error ${synchronous}`); r(); })),
    ]);
    synchronous = false;
    await done;
    expect(calls.sort()).toEqual(['error false', 'hosts false', 'literal false']);
  });

  test('ADDRCONFIG keeps the families the stack has addresses of', async () => {
    const v4only = createDns({
      ...transport,
      interfaces: () => ({ lo: clientStack.interfaces().lo, vde0: [{ address: CLIENT4, netmask: '255.255.255.0', family: 'IPv4', mac: '', internal: false, cidr: `${CLIENT4}/24` }] }),
    }, { servers: [SERVER4] });
    expect(await call(v4only.lookup, 'dual.example.test', { all: true })).toHaveLength(2);
    expect(await call(v4only.lookup, 'dual.example.test', { all: true, hints: dns.ADDRCONFIG })).toEqual([{ address: '10.53.0.30', family: 4 }]);
    // The real client stack has both families.
    expect(await call(dns.lookup, 'dual.example.test', { all: true, hints: dns.ADDRCONFIG })).toHaveLength(2);
  });

  test('lookupService: the hosts table, then PTR; the service from the port', async () => {
    expect(await call(dns.lookupService, SERVER4, 22)).toEqual(['ns1.example.test', 'ssh']);
    expect(await call(dns.lookupService, '127.0.0.1', '443')).toEqual(['localhost', 'https']);
    expect(await call(dns.lookupService, 'fd00:53::10', 12345)).toEqual(['www6.example.test', '12345']);
    await expect(call(dns.lookupService, '10.53.0.99', 80)).rejects.toMatchObject({
      code: 'ENOTFOUND', errno: -3008, syscall: 'getnameinfo', hostname: '10.53.0.99', message: 'getnameinfo ENOTFOUND 10.53.0.99',
    });
  });
});

describe('promises', () => {
  test('the promise API and its Resolver', async () => {
    const p = dns.promises;
    expect(await p.resolve4('www.example.test')).toEqual(['10.53.0.10', '10.53.0.11']);
    expect(await p.resolve6('www.example.test', { ttl: true })).toEqual([{ address: 'fd00:53::10', ttl: 120 }]);
    expect(await p.resolve('example.test', 'NS')).toEqual(['ns1.example.test', 'ns2.example.test']);
    expect(await p.resolveSrv('_sip._tcp.example.test')).toEqual(asNode('SRV', { name: 'sip.example.test', port: 5060, priority: 10, weight: 5 }));
    expect(await p.reverse('10.53.0.10')).toEqual(['www.example.test']);
    expect(await p.lookup('www.example.test')).toEqual({ address: 'fd00:53::10', family: 6 });
    expect(await p.lookup('www.example.test', { all: true, family: 6 })).toEqual([{ address: 'fd00:53::10', family: 6 }]);
    expect(await p.lookupService(SERVER4, 53)).toEqual({ hostname: 'ns1.example.test', service: 'domain' });
    await expect(p.resolveCname('nowhere.example.test')).rejects.toMatchObject({ code: 'ENOTFOUND', syscall: 'queryCname' });

    const r = new p.Resolver({ timeout: 200, tries: 1 });
    expect(r.getServers()).toEqual([SERVER4]); // the stack's configuration, not setServers()'s
    r.setServers([`[${SERVER6}]`]);
    expect(await r.resolveNaptr('example.test')).toHaveLength(1);
    await expect(r.resolve4('silent.example.test')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(p.getServers()).toEqual([SERVER4]);
    expect(p.NOTFOUND).toBe('ENOTFOUND');
  });
});

describe('arguments, checked as node:dns checks them', () => {
  test('setServers and getServers', () => {
    const r = new dns.Resolver();
    r.setServers(['10.0.0.1', '10.0.0.2:5353', '[::0001]:53', '[fd00::1]:5353', 'fd00::2', '[fd00::3]']);
    expect(r.getServers()).toEqual(['10.0.0.1', '10.0.0.2:5353', '::1', '[fd00::1]:5353', 'fd00::2', 'fd00::3']);
    const reference = new nodeDns.Resolver();
    reference.setServers(['10.0.0.1', '10.0.0.2:5353', '[::0001]:53', '[fd00::1]:5353', 'fd00::2', '[fd00::3]']);
    expect(r.getServers()).toEqual(reference.getServers());
    expect(() => r.setServers(['10.0.0.1:0'])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => r.setServers(['10.0.0.1:70000'])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(r.getServers()).toHaveLength(6); // a failed setServers changes nothing
  });

  // Each pair: our call and node:dns's (which throws before sending anything).
  const cb = () => undefined;
  // Both modules are called with deliberately wrong arguments: each member is taken as a function
  // or class that accepts anything.
  const cases: Array<[string, (d: LooseModule) => unknown]> = [
    ['lookup(42, cb)', (d) => d.lookup(42, cb)],
    ["lookup('x')", (d) => d.lookup('x')],
    ["lookup('x', 'y', cb)", (d) => d.lookup('x', 'y', cb)],
    ["lookup('x', 'y')", (d) => d.lookup('x', 'y')],
    ["lookup('x', 5, cb)", (d) => d.lookup('x', 5, cb)],
    ["lookup('x', { family: 5 }, cb)", (d) => d.lookup('x', { family: 5 }, cb)],
    ["lookup('x', { family: 'ipv4' }, cb)", (d) => d.lookup('x', { family: 'ipv4' }, cb)],
    ["lookup('x', { hints: 'a' }, cb)", (d) => d.lookup('x', { hints: 'a' }, cb)],
    ["lookup('x', { hints: 12345 }, cb)", (d) => d.lookup('x', { hints: 12345 }, cb)],
    ["lookup('x', { all: 1 }, cb)", (d) => d.lookup('x', { all: 1 }, cb)],
    ["lookup('x', { order: 'x' }, cb)", (d) => d.lookup('x', { order: 'x' }, cb)],
    ["lookup('x', { verbatim: 'x' }, cb)", (d) => d.lookup('x', { verbatim: 'x' }, cb)],
    ["lookup('x', { order: 'x'.repeat(200) }, cb)", (d) => d.lookup('x', { order: 'x'.repeat(200) }, cb)],
    ["lookup('x', { hints: 'x'.repeat(40) }, cb)", (d) => d.lookup('x', { hints: 'x'.repeat(40) }, cb)],
    ["lookup('x', { family: Object.create(null) }, cb)", (d) => d.lookup('x', { family: Object.create(null) }, cb)],
    ['lookup(function named() {}, cb)', (d) => d.lookup(function named() { return 1; }, cb)],
    ['lookup(() => 1, cb)', (d) => d.lookup((() => () => 1)(), cb)],
    ["lookupService('1.2.3.4', 22)", (d) => d.lookupService('1.2.3.4', 22)],
    ["lookupService('x', 22, cb)", (d) => d.lookupService('x', 22, cb)],
    ["lookupService('1.2.3.4', 70000, cb)", (d) => d.lookupService('1.2.3.4', 70000, cb)],
    ["lookupService('1.2.3.4', 'ab', cb)", (d) => d.lookupService('1.2.3.4', 'ab', cb)],
    ["lookupService('1.2.3.4', {}, cb)", (d) => d.lookupService('1.2.3.4', {}, cb)],
    ['lookupService(4, 22, cb)', (d) => d.lookupService(4, 22, cb)],
    ["lookupService('1.2.3.4', 22, 'cb')", (d) => d.lookupService('1.2.3.4', 22, 'cb')],
    ['lookupService({}, 22, cb)', (d) => d.lookupService({}, 22, cb)],
    ['lookupService(() => 1, 22, cb)', (d) => d.lookupService((() => () => 1)(), 22, cb)],
    ["lookupService('1.2.3.4', 2 ** 40, cb)", (d) => d.lookupService('1.2.3.4', 2 ** 40, cb)],
    ["resolve('x', 'x'.repeat(200), cb)", (d) => d.resolve('x', 'x'.repeat(200), cb)],
    ['resolve4(42, cb)', (d) => d.resolve4(42, cb)],
    ["resolve4('x')", (d) => d.resolve4('x')],
    ["resolveMx('x', {}, null)", (d) => d.resolveMx('x', {}, null)],
    ["resolve('x', 42, cb)", (d) => d.resolve('x', 42, cb)],
    ["resolve('x', 'BOGUS', cb)", (d) => d.resolve('x', 'BOGUS', cb)],
    ["resolve('x', 'constructor', cb)", (d) => d.resolve('x', 'constructor', cb)],
    ["reverse('abc', cb)", (d) => d.reverse('abc', cb)],
    ['reverse(1, cb)', (d) => d.reverse(1, cb)],
    ["setServers('1.2.3.4')", (d) => d.setServers('1.2.3.4')],
    ['setServers([42])', (d) => d.setServers([42])],
    ["setServers(['1.2.3'])", (d) => d.setServers(['1.2.3'])],
    ["setServers(['[::1'])", (d) => d.setServers(['[::1'])],
    ["new Resolver({ timeout: 'a' })", (d) => new d.Resolver({ timeout: 'a' })],
    ['new Resolver({ timeout: 1.5 })', (d) => new d.Resolver({ timeout: 1.5 })],
    ['new Resolver({ timeout: -2 })', (d) => new d.Resolver({ timeout: -2 })],
    ['new Resolver({ tries: 0 })', (d) => new d.Resolver({ tries: 0 })],
    ['new Resolver({ tries: 2 ** 40 })', (d) => new d.Resolver({ tries: 2 ** 40 })],
    ['new Resolver({ timeout: 5e9 })', (d) => new d.Resolver({ timeout: 5e9 })],
    ["setDefaultResultOrder('x')", (d) => d.setDefaultResultOrder('x')],
    ['promises.lookup(42)', (d) => d.promises.lookup(42)],
    ["promises.lookup('x', 'y')", (d) => d.promises.lookup('x', 'y')],
    ["promises.lookup('x', { family: 3 })", (d) => d.promises.lookup('x', { family: 3 })],
    ["promises.resolve('x', 'BOGUS')", (d) => d.promises.resolve('x', 'BOGUS')],
    ["promises.resolve('x', 42)", (d) => d.promises.resolve('x', 42)],
    ['promises.resolve4(42)', (d) => d.promises.resolve4(42)],
    ["promises.lookupService('1.2.3.4')", (d) => d.promises.lookupService('1.2.3.4')],
    ["promises.lookupService('1.2.3.4', -1)", (d) => d.promises.lookupService('1.2.3.4', -1)],
    ['promises.lookupService(4, 22)', (d) => d.promises.lookupService(4, 22)],
    ["new promises.Resolver({ tries: 'x' })", (d) => new d.promises.Resolver({ tries: 'x' })],
  ];

  test.each(cases)('%s throws what node:dns throws', (_, make) => {
    const thrown = (d: object) => {
      try {
        make(d as LooseModule);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        return { name: err.name, code: err.code, message: err.message };
      }
      return 'nothing thrown';
    };
    const expected = thrown(nodeDns);
    expect(expected).not.toBe('nothing thrown');
    expect(thrown(dns)).toEqual(expected);
  });
});
