// lookup()'s answer order: Node's 'verbatim' is getaddrinfo's, which glibc sorts by destination
// address selection (RFC 3484's rules, glibc's tables), from the source address each answer would
// be reached from. The names of a hosts file, listed in orders the rules change, are looked up by
// native Node in a network namespace of its own whose loopback carries the addresses below, and by
// the stack resolver twice: over that namespace's own sockets (the same source addresses as glibc),
// and over a stack given the same addresses. All three must agree, for each result order.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from '../../src';
import { createDns, DnsTransport } from '../../src/dns';

const HOSTS = `
127.0.0.1 localhost
::1 localhost
10.1.0.7 dual
fd00:1::7 dual
192.0.2.1 global6
2001:db8:1::9 global6
198.51.100.1 unreach
10.1.0.9 unreach
10.1.0.200 near
10.1.0.2 near
2001:db8:1:0:ffff::1 near6
2001:db8:1::2 near6
10.1.0.8 mixed
2001:db8:1::8 mixed
127.0.0.2 mixed
fd00:1::8 mixed
203.0.113.5 mixed
`;
const NAMES = ['localhost', 'dual', 'global6', 'unreach', 'near', 'near6', 'mixed'];
const ADDRESSES: Array<[string, number]> = [['10.1.0.1', 24], ['fd00:1::1', 64], ['2001:db8:1::1', 64]];

type Answer = Array<{ address: string; family: number }> | string | { error: string };
interface Case { name: string; options: Record<string, unknown>; native: Answer; ours: Answer }

const fixture = path.join(__dirname, '..', 'fixtures', 'gai-order.js');
const root = process.getuid?.() === 0;
if (!root) console.warn('dns-order.test.ts skipped: it needs root for a network and mount namespace of its own');

(root ? describe : describe.skip)('lookup() orders its answers as getaddrinfo does', () => {
  let dir: string;
  let cases: Case[];
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-order-'));
    fs.writeFileSync(path.join(dir, 'hosts'), HOSTS);
    const setup = ['ip link set lo up', ...ADDRESSES.map(([a, len]) => `ip addr add ${a}/${len} dev lo${a.includes(':') ? ' nodad' : ''}`),
      `mount --bind ${path.join(dir, 'hosts')} /etc/hosts`, `exec "${process.execPath}" ${fixture} ${NAMES.join(' ')}`];
    const r = spawnSync('unshare', ['-mn', 'sh', '-ec', setup.join('; ')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the fixture failed (${r.status}): ${r.stderr}`);
    cases = JSON.parse(r.stdout) as Case[];
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the rules were at work: native answers are not the hosts file\'s order', () => {
    const first = (name: string) => {
      const found = cases.find((c) => c.name === name && c.options.all && !c.options.order && !c.options.family);
      return (found!.native as Array<{ address: string }>)[0].address;
    };
    expect(first('localhost')).toBe('::1'); // precedence (::1 50 over IPv4 10)
    expect(first('unreach')).toBe('10.1.0.9'); // the other one has no route
    expect(first('near')).toBe('10.1.0.2'); // longest matching prefix, within the subnet
    expect(first('near6')).toBe('2001:db8:1::2');
  });

  test('over the same namespace, the stack resolver answers as native Node', () => {
    // glibc's files module answers an IPv4 query for a name listed with ::1 with 127.0.0.1 too:
    // with family 4, and with V4MAPPED | ALL, localhost's 127.0.0.1 comes twice, natively and here.
    const twice = cases.find((c) => c.name === 'localhost' && c.options.family === 4)!.native;
    expect(twice).toEqual([{ address: '127.0.0.1', family: 4 }, { address: '127.0.0.1', family: 4 }]);
    for (const c of cases) {
      expect(c.native).toBeDefined();
      expect({ ...c, native: c.native }).toEqual({ ...c, native: c.ours });
    }
  });

  test('on a stack with the same addresses, lookup() answers as native Node', async () => {
    const stack = new Stack('vdestack', 'null://');
    try {
      stack.linkSetUpDown('lo', true);
      stack.linkSetUpDown('vde0', true);
      for (const [a, len] of ADDRESSES) stack.ipAddrAdd(a, len, 'vde0', { nodad: true });
      const transport: DnsTransport = {
        udpSocket: (family) => stack.dgram.createSocket(family === 6 ? 'udp6' : 'udp4'),
        tcpConnect: (ip, port, localAddress) => stack.net.connect({ host: ip, port, localAddress }) as net.Socket,
        interfaces: () => stack.interfaces(),
      };
      const dns = createDns(transport, { hostsFile: path.join(dir, 'hosts') });
      for (const c of cases) {
        const lookup = dns.lookup as (...a: unknown[]) => void;
        const answer = await new Promise<Answer>((resolve) => lookup(c.name, c.options,
          (err: NodeJS.ErrnoException | null, list: Answer) => resolve(err ? { error: err.code! } : list)));
        const { name, options } = c;
        expect({ name, options, answer }).toEqual({ name, options, answer: c.ours });
      }
    } finally {
      stack.close();
    }
  });
});
