// The parts of the stack resolver that need no DNS server: the hosts table (src/dns/hosts.ts), the
// names a query tries (the search list and ndots, as resolv.conf(5) describes them), the reverse
// names, lookup()'s ordering and hints (V4MAPPED, ALL, ADDRCONFIG as RFC 3493 and getaddrinfo
// define them) over the hosts table, and lookupService()'s service names. The transport refuses to
// open any socket: nothing here may ask a server.
import * as fs from 'node:fs';
import * as nodeDns from 'node:dns';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NetworkInterfaceInfo } from 'node:os';
import { createDns, DnsTransport } from '../../src/dns';
import { DnsEngine, reverseName } from '../../src/dns/engine';
import { HostsTable } from '../../src/dns/hosts';
import { parseHostsFile } from '../../src/dns/hosts-file';
import { serviceName } from '../../src/dns/services';
import { call } from '../helpers/call';

const noSockets: DnsTransport = {
  udpSocket: () => { throw new Error('no socket may be opened in this test'); },
  tcpConnect: () => { throw new Error('no socket may be opened in this test'); },
};

describe('the hosts table', () => {
  test('loopback names first, then the stack\'s own, then added ones; without case or final dot', () => {
    const hosts = new HostsTable(() => [{ name: 'Me.Stack', address: '10.0.0.2' }, { name: 'bad name', address: '10.0.0.3' }]);
    hosts.add('db.internal.', 'FD00:0:0::0001');
    hosts.add('db.internal', 'fd00::1'); // the same entry: not repeated
    hosts.add('db.internal', '10.9.9.9');
    expect(hosts.entries().map((e) => `${e.name} ${e.address}`)).toEqual([
      'localhost 127.0.0.1', 'localhost ::1', 'ip6-localhost ::1', 'ip6-loopback ::1', // (the stack's bad name is left out)
      'me.stack 10.0.0.2', 'db.internal fd00::1', 'db.internal 10.9.9.9',
    ]);
    expect(hosts.addresses('DB.INTERNAL.').map((e) => [e.address, e.family])).toEqual([['fd00::1', 6], ['10.9.9.9', 4]]);
    expect(hosts.names('::1')).toEqual(['localhost', 'ip6-localhost', 'ip6-loopback']);
    expect(hosts.names('fd00:0::1')).toEqual(['db.internal']);
    expect(hosts.names('not an address')).toEqual([]);
    expect(hosts.delete('db.internal', '10.9.9.9')).toBe(true);
    expect(hosts.delete('db.internal', '10.9.9.9')).toBe(false);
    expect(hosts.delete('DB.internal')).toBe(true);
    expect(hosts.addresses('db.internal')).toEqual([]);
  });

  test.each([
    ['a name with a space', 'a b', '10.0.0.1', 'ERR_INVALID_ARG_VALUE'],
    ['an empty name', '', '10.0.0.1', 'ERR_INVALID_ARG_VALUE'],
    ['a name with ..', 'a..b', '10.0.0.1', 'ERR_INVALID_ARG_VALUE'],
    ['a name not a string', 5, '10.0.0.1', 'ERR_INVALID_ARG_TYPE'],
    ['an address with a zone', 'a', 'fe80::1%lo', 'ERR_INVALID_ARG_VALUE'],
    ['a legacy IPv4 form', 'a', '10.1', 'ERR_INVALID_ARG_VALUE'],
    ['an address not a string', 'a', 167772161, 'ERR_INVALID_ARG_TYPE'],
  ])('add() refuses %s', (_, name, address, code) => {
    expect(() => new HostsTable().add(name as string, address as string)).toThrow(expect.objectContaining({ code }));
  });
});

describe('the names a query tries', () => {
  const engine = (search: string[], ndots = 1) =>
    new DnsEngine(noSockets, new HostsTable(), { servers: [], search, ndots, timeout: 1000, tries: 1 });

  test('fewer dots than ndots: the search suffixes first; at least ndots: the name first; a final dot: only the name', () => {
    const e = engine(['a.test', 'b.test']);
    expect(e.candidates('host')).toEqual(['host.a.test', 'host.b.test', 'host']);
    expect(e.candidates('host.corp')).toEqual(['host.corp', 'host.corp.a.test', 'host.corp.b.test']);
    expect(e.candidates('host.')).toEqual(['host']);
    expect(engine(['a.test'], 2).candidates('host.corp')).toEqual(['host.corp.a.test', 'host.corp']);
    expect(engine(['a.test'], 0).candidates('host')).toEqual(['host', 'host.a.test']);
    expect(engine([]).candidates('host')).toEqual(['host']);
  });

  test('names go on the wire in ASCII (IDNA, as Node\'s url.domainToASCII), within DNS\'s limits', () => {
    const e = engine(['x.test']);
    expect(e.candidates('bücher.test')).toEqual(['xn--bcher-kva.test', 'xn--bcher-kva.test.x.test']);
    expect(e.candidates(`${'a'.repeat(63)}.test`)[0]).toBe(`${'a'.repeat(63)}.test`);
    for (const bad of [`${'a'.repeat(64)}.test`, 'a..b', '.a', `${'abcdefg.'.repeat(32)}test`]) {
      expect(() => e.candidates(bad)).toThrow(expect.objectContaining({ code: 'EBADNAME' }));
    }
    // A search suffix that would make the name too long is skipped, not an error.
    expect(engine([`${'s'.repeat(60)}.${'t'.repeat(60)}.${'u'.repeat(60)}`]).candidates(`${'h'.repeat(63)}.${'i'.repeat(10)}`)).toHaveLength(1);
  });

  test('reverse names: in-addr.arpa and ip6.arpa (RFC 1035 3.5, RFC 3596 2.5)', () => {
    expect(reverseName('10.1.2.3')).toBe('3.2.1.10.in-addr.arpa');
    expect(reverseName('4321:0:1:2:3:4:567:89ab')).toBe('b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa');
    expect(reverseName('fe80::1%vde0')).toBe(`1.${'0.'.repeat(28)}8.e.f.ip6.arpa`); // the zone is not part of the name
  });
});

describe('lookup() from the hosts table', () => {
  const v6 = { address: 'fd00::1', family: 6 };
  const v4 = { address: '10.0.0.1', family: 4 };
  // (No hosts file: the loopback names only, whatever this host's /etc/hosts says.)
  const dnsWith = (interfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>) => createDns({ ...noSockets, interfaces },
    { hostsFile: null, hosts: [{ name: 'mixed.test', address: 'fd00::1' }, { name: 'mixed.test', address: '10.0.0.1' }, { name: 'four.test', address: '10.0.0.4' }] });

  test('order: verbatim is the table\'s, ipv4first, ipv6first, the legacy verbatim flag, the default order', async () => {
    const d = dnsWith();
    expect(await call(d.lookup, 'mixed.test', { all: true, order: 'verbatim' })).toEqual([v6, v4]);
    expect(await call(d.lookup, 'mixed.test', { all: true, order: 'ipv4first' })).toEqual([v4, v6]);
    expect(await call(d.lookup, 'mixed.test', { all: true, order: 'ipv6first' })).toEqual([v6, v4]);
    expect(await call(d.lookup, 'mixed.test', { all: true, verbatim: false })).toEqual([v4, v6]);
    expect(await call(d.lookup, 'mixed.test', { all: true, verbatim: true })).toEqual([v6, v4]);
    expect(d.getDefaultResultOrder()).toBe(nodeDns.getDefaultResultOrder()); // until set, Node's own default
    d.setDefaultResultOrder('ipv4first');
    expect(await call(d.lookup, 'mixed.test')).toEqual(['10.0.0.1', 4]);
    expect(await d.promises.lookup('mixed.test')).toEqual(v4);
    d.setDefaultResultOrder('ipv6first');
    expect(await call(d.lookup, 'mixed.test')).toEqual(['fd00::1', 6]);
    expect(nodeDns.getDefaultResultOrder()).not.toBe(undefined); // Node's own setting is untouched
  });

  test('family, and V4MAPPED: IPv4 as ::ffff:a.b.c.d only without IPv6, or always with ALL (RFC 3493)', async () => {
    const d = dnsWith();
    expect(await call(d.lookup, 'mixed.test', { family: 4, all: true })).toEqual([v4]);
    expect(await call(d.lookup, 'mixed.test', 6)).toEqual(['fd00::1', 6]);
    expect(await call(d.lookup, 'four.test', { family: 6, hints: nodeDns.V4MAPPED })).toEqual(['::ffff:10.0.0.4', 6]);
    expect(await call(d.lookup, 'mixed.test', { family: 6, hints: nodeDns.V4MAPPED, all: true })).toEqual([v6]);
    expect(await call(d.lookup, 'mixed.test', { family: 6, hints: nodeDns.V4MAPPED | nodeDns.ALL, all: true }))
      .toEqual([v6, { address: '::ffff:10.0.0.1', family: 6 }]);
    await expect(call(d.lookup, 'four.test', { family: 6 })).rejects.toMatchObject({ code: 'EAI_AGAIN' }); // no server to ask
  });

  test('ADDRCONFIG keeps the families the stack has non-local addresses of', async () => {
    const info = (address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo =>
      ({ address, family, internal, netmask: '', mac: '', cidr: null } as NetworkInterfaceInfo);
    const only4 = dnsWith(() => ({ lo: [info('127.0.0.1', 'IPv4', true), info('::1', 'IPv6', true)], vde0: [info('10.0.0.2', 'IPv4'), info('fe80::2', 'IPv6')] }));
    expect(await call(only4.lookup, 'mixed.test', { all: true, hints: nodeDns.ADDRCONFIG })).toEqual([v4]);
    expect(await call(only4.lookup, 'mixed.test', { all: true })).toEqual([v6, v4]); // without the hint
    const only6 = dnsWith(() => ({ vde0: [info('fd00::2', 'IPv6')] }));
    expect(await call(only6.lookup, 'mixed.test', { all: true, hints: nodeDns.ADDRCONFIG })).toEqual([v6]);
    const none = dnsWith(() => ({ lo: [info('127.0.0.1', 'IPv4', true)] })); // as glibc: nothing configured, no filter
    expect(await call(none.lookup, 'mixed.test', { all: true, hints: nodeDns.ADDRCONFIG })).toEqual([v6, v4]);
  });

  test('literals are answered as they are; the loopback names from the table; callbacks always later', async () => {
    const d = dnsWith();
    expect(await call(d.lookup, '10.1.2.3')).toEqual(['10.1.2.3', 4]);
    expect(await call(d.lookup, 'fd00::0:1', { all: true })).toEqual([{ address: 'fd00::0:1', family: 6 }]);
    // getaddrinfo's order: no source address for either here (this transport opens no socket), so
    // precedence decides (::1 50, IPv4 10), whatever the table's order (test/stack/dns-order.test.ts).
    expect(await call(d.lookup, 'LOCALHOST.', { all: true, order: 'verbatim' })).toEqual([{ address: '::1', family: 6 }, { address: '127.0.0.1', family: 4 }]);
    expect(await call(d.lookup, 'LOCALHOST.', { all: true, order: 'ipv4first' })).toEqual([{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]);
    let synchronous = true;
    const seen: boolean[] = [];
    const done = Promise.all([
      new Promise<void>((r) => d.lookup('10.1.2.3', () => { seen.push(synchronous); r(); })),
      new Promise<void>((r) => d.lookup('mixed.test', () => { seen.push(synchronous); r(); })),
    ]);
    synchronous = false;
    await done;
    expect(seen).toEqual([false, false]);
  });

  test('lookupService: the name from the hosts table, the service from the port', async () => {
    const d = dnsWith();
    expect(await call(d.lookupService, '10.0.0.4', 22)).toEqual(['four.test', 'ssh']);
    expect(await call(d.lookupService, '::1', '443')).toEqual(['localhost', 'https']);
    expect(await d.promises.lookupService('127.0.0.1', 40000)).toEqual({ hostname: 'localhost', service: '40000' });
    await expect(call(d.lookupService, '10.0.0.99', 80)).rejects.toMatchObject({ code: 'EAI_AGAIN', syscall: 'getnameinfo' });
  });
});

describe('the hosts file the table starts from', () => {
  let dir: string;
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-hosts-')); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('its entries in file order, comments and bad lines left out; read again when it changes; none: the loopback names', async () => {
    const file = path.join(dir, 'hosts');
    fs.writeFileSync(file, '# a comment\n127.0.0.1\tlocalhost  me.example # mine\n::1 localhost ip6-localhost\n\n10.1.1.1 bad..name db\nnot-an-address x\n');
    const d = createDns(noSockets, { hostsFile: file, hosts: [{ name: 'db', address: '10.2.2.2' }] });
    expect(d.hosts.entries().map((e) => `${e.name} ${e.address}`)).toEqual([
      'localhost 127.0.0.1', 'me.example 127.0.0.1', 'localhost ::1', 'ip6-localhost ::1', 'db 10.1.1.1', 'db 10.2.2.2',
    ]);
    expect(await call(d.lookup, 'localhost', { all: true, order: 'ipv4first' })).toEqual([{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]);
    // An IPv4 look-up: the ::1 entry answers as 127.0.0.1 too (glibc's files module), and one address
    // listed twice needs no ordering, so no socket is opened for it (a counting transport).
    let opened = 0;
    const countingTransport = { ...noSockets, udpSocket: (f: 4 | 6) => { opened++; return noSockets.udpSocket(f); } };
    const counting = createDns(countingTransport, { hostsFile: file });
    const loopback4 = { address: '127.0.0.1', family: 4 };
    expect(await call(counting.lookup, 'localhost', { family: 4, all: true })).toEqual([loopback4, loopback4]);
    expect(opened).toBe(0);
    expect(await call(d.lookupService, '127.0.0.1', 80)).toEqual(['localhost', 'http']);
    expect(await d.promises.reverse('10.1.1.1')).toEqual(['db']);
    // A host whose file names localhost for IPv4 only (as this machine's may): IPv6 has no localhost.
    fs.writeFileSync(file, '127.0.0.1 localhost\n');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000)); // a new mtime even within the same tick
    expect(await call(d.lookup, 'localhost', { all: true })).toEqual([{ address: '127.0.0.1', family: 4 }]);
    await expect(call(d.lookup, 'ip6-localhost')).rejects.toMatchObject({ code: 'EAI_AGAIN' }); // not in the file: DNS, and no server
    fs.rmSync(file);
    expect(await call(d.lookup, 'ip6-localhost')).toEqual(['::1', 6]); // no file to read: the loopback names
    expect(() => createDns(noSockets, { hostsFile: 5 as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  const hostsFile = fs.existsSync('/etc/hosts') ? fs.readFileSync('/etc/hosts', 'utf8') : null;
  (hostsFile ? test : test.skip)('by default the host\'s /etc/hosts: its names resolve as node:dns resolves them here', async () => {
    const d = createDns(noSockets);
    const names = [...new Set(parseHostsFile(hostsFile!).map((e) => e.name))].filter((n) => /^[A-Za-z0-9_.-]+$/.test(n));
    expect(names.length).toBeGreaterThan(0);
    // The same addresses; the order aside (glibc sorts them by RFC 6724, the table keeps the file's).
    const sorted = (list: Array<{ address: string }>) => list.map((a) => a.address).sort();
    for (const name of names) {
      const theirs = await call<Array<{ address: string }>>(nodeDns.lookup, name, { all: true });
      expect([name, sorted(await call(d.lookup, name, { all: true }))]).toEqual([name, sorted(theirs)]);
    }
  });
});

// The service names getnameinfo() would take from /etc/services (the stack's never depend on the
// host's file, so they are a table): the same as this host's file says, where it has one.
const services = fs.existsSync('/etc/services') ? fs.readFileSync('/etc/services', 'utf8') : null;
(services ? test : test.skip)('service names agree with this host\'s /etc/services (tcp)', () => {
  const first = new Map<number, string>();
  for (const line of services!.split('\n')) {
    const m = /^([\w.+-]+)\s+(\d+)\/tcp\b/.exec(line);
    if (m && !first.has(Number(m[2]))) first.set(Number(m[2]), m[1]);
  }
  const ports = [7, 21, 22, 25, 53, 80, 110, 143, 443, 465, 587, 993, 995, 3306, 5432, 6379, 8080, 9418];
  const known = ports.filter((p) => first.has(p));
  expect(known.length).toBeGreaterThan(10);
  for (const p of known) expect([p, serviceName(p)]).toEqual([p, first.get(p)]);
  expect(serviceName(40000)).toBe(first.get(40000) ?? '40000');
});
