// IPv6 duplicate address detection (DAD): a new IPv6 address is tentative for 1-2 s, and binding
// to it fails with EADDRNOTAVAIL until then. Configuration (stack.config, configAsync,
// Stack.fromConfig[Async], the register hook) returns only once the addresses it added are usable,
// or fails saying why: a duplicate on the network (two stacks on one hub), a link that is down.
// ipAddrAdd stays immediate; its { nodad } and the configuration's nodad skip DAD. Real stacks,
// and the link's own DAD settings read back through the stack's namespace.
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from '../../src';
import { dadBound } from '../../src/config/dad';
import { childrenOf } from '../helpers/procs';

const root = path.resolve(__dirname, '..', '..');
let dir: string;
const stacks: Stack[] = [];
const track = (s: Stack) => (stacks.push(s), s);
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-dad-'));
});
afterEach(() => {
  for (const s of stacks.splice(0).reverse()) s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const hub = () => `hub://${dir}/hub`;
const joiner = () => `vde://${dir}/hub`;

/** Listens on host (any port) of the stack right away: 'listening', or the error's code. */
function listenNow(stack: Stack, host: string): Promise<string> {
  return new Promise((resolve) => {
    const server = stack.net.createServer();
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)));
    server.listen(0, host, () => server.close(() => resolve('listening')));
  });
}

const entry = (s: Stack, address: string) => s.addresses().find((a) => a.address === address);

/** node with the hook, in an empty network namespace of its own (as test/network/override.test.ts runs apps). */
function hooked(
  script: string, args: string[], env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('unshare', ['--net', '--', process.execPath, '--import', 'iothts/register', path.join(__dirname, '..', 'fixtures', script), ...args],
      { cwd: root, env: { ...process.env, ...env }, timeout: 20000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      });
  });
}

/** A stack and its vdestack helper's pid, to look into its network namespace. */
function stackWithHelper(vnl: string): { stack: Stack; helper: number } {
  const before = new Set(childrenOf(process.pid));
  const stack = track(new Stack('vdestack', vnl));
  const helper = childrenOf(process.pid).find((p) => !before.has(p));
  if (!helper) throw new Error('no helper process appeared for the stack');
  return { stack, helper };
}
const inStack = (helper: number, ...cmd: string[]) => execFileSync('nsenter', ['-t', String(helper), '-n', ...cmd], { encoding: 'utf8' }).trim();

describe('configuration returns with its IPv6 addresses usable', () => {
  test("stack.config('eth,ip=fc00::1/64'), then listen on fc00::1 at once", async () => {
    const stack = track(new Stack('vdestack', hub()));
    const result = stack.config('eth,ip=fc00::1/64');
    expect(entry(stack, 'fc00::1')).toMatchObject({ tentative: false, dadFailed: false, nodad: false, prefixLen: 64, interface: 'vde0' });
    expect(await listenNow(stack, 'fc00::1')).toBe('listening');
    expect(result.addresses).toEqual(['fc00::1/64']);
  });

  test('configAsync waits without blocking the event loop; Stack.fromConfig and fromConfigAsync wait too', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const stack = track(new Stack('vdestack', hub()));
    const t0 = Date.now();
    await stack.configAsync('eth,ip=fc00::2/64');
    const waited = Date.now() - t0;
    clearInterval(timer);
    expect(await listenNow(stack, 'fc00::2')).toBe('listening');
    // DAD takes at least one retrans_time (1 s) unanswered: the loop kept turning all along.
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(ticks).toBeGreaterThan(waited / 20 / 4);

    const sync = track(Stack.fromConfig(`vnl=${joiner()},eth,ip=fc00::3/64`));
    expect(await listenNow(sync, 'fc00::3')).toBe('listening');
    const async = track(await Stack.fromConfigAsync(`vnl=${joiner()},eth,ip=fc00::4/64,ip=fc00:1::4/64`));
    expect(await listenNow(async, 'fc00::4')).toBe('listening');
    expect(await listenNow(async, 'fc00:1::4')).toBe('listening');
    // and they reach each other over the hub from those addresses, with no wait of the test's own
    const reached = await new Promise<string>((resolve, reject) => {
      const server = stack.net.createServer((c) => c.end(String(c.remoteAddress))).listen(7000, 'fc00::2', () => {
        const c = async.net.connect({ host: 'fc00::2', port: 7000, localAddress: 'fc00::4' });
        let text = '';
        c.on('data', (d) => { text += d; }).on('end', () => server.close(() => resolve(text))).on('error', reject);
      });
    });
    expect(reached).toBe('fc00::4');
  });

  test('the register hook: IOTH_CONFIG=eth,ip=fc00::1/64 and a server that listens on fc00::1 at once', async () => {
    const run = await hooked('listen-at-once.js', ['fc00::1', '8080'], { IOTH_VNL: hub(), IOTH_CONFIG: 'eth,ip=fc00::1/64' });
    expect(run).toEqual({ code: 0, stdout: 'listening fc00::1 8080\n', stderr: '' });
  });

  test("the link's DAD settings are read from the stack and the wait follows them", async () => {
    const { stack, helper } = stackWithHelper(hub());
    const sysctl = (name: string) => Number(inStack(helper, 'cat', `/proc/sys/net/ipv6/conf/vde0/${name}`));
    expect(stack.links().find((l) => l.name === 'vde0')!.ipv6).toEqual({
      acceptDad: sysctl('accept_dad'), dadTransmits: sysctl('dad_transmits'),
      rtrSolicitDelay: Math.round(sysctl('router_solicitation_delay') * 1000), retransTime: Number(inStack(helper, 'cat', '/proc/sys/net/ipv6/neigh/vde0/retrans_time_ms')),
    });
    inStack(helper, 'sysctl', '-q', '-w', 'net.ipv6.conf.vde0.dad_transmits=3', 'net.ipv6.neigh.vde0.retrans_time_ms=400');
    const link = stack.links().find((l) => l.name === 'vde0')!;
    expect(link.ipv6).toMatchObject({ dadTransmits: 3, retransTime: 400 });
    expect(dadBound(link).ms).toBe(link.ipv6!.rtrSolicitDelay! + 3 * 400 + 1000);
    const t0 = Date.now();
    stack.config('eth,ip=fc00::5/64');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3 * 400 - 50);  // three probes, 400 ms apart
    expect(await listenNow(stack, 'fc00::5')).toBe('listening');
    // No DAD on the link: nothing to wait for.
    inStack(helper, 'sysctl', '-q', '-w', 'net.ipv6.conf.vde0.accept_dad=0');
    stack.config('ip=fc00::6/64');
    expect(entry(stack, 'fc00::6')).toMatchObject({ tentative: false });
  });

  test('without a readable link the bound is documented: Linux defaults (1 s delay + 1 probe x 1 s) + 1 s', () => {
    expect(dadBound(undefined).ms).toBe(3000);
    const ipv6 = { acceptDad: 1, dadTransmits: null, rtrSolicitDelay: null, retransTime: 250 };
    expect(dadBound({ ipv6 } as never).ms).toBe(1000 + 250 + 1000);
  });
});

describe('a duplicate address on the network', () => {
  test('two stacks on one hub given fc00::1: the second gets ERR_IOTH_DUPLICATE_ADDRESS naming the address and interface', async () => {
    const first = track(new Stack('vdestack', hub()));
    first.config('eth,ip=fc00::1/64');
    const second = track(new Stack('vdestack', joiner()));
    let error: (Error & Record<string, unknown>) | undefined;
    try {
      second.config('eth,ip=fc00::1/64');
    } catch (err) {
      error = err as typeof error;
    }
    expect(error).toMatchObject({ code: 'ERR_IOTH_DUPLICATE_ADDRESS', address: 'fc00::1', prefixLen: 64, iface: 'vde0', ifindex: 2 });
    expect(error!.message).toMatch(/^fc00::1 is already used by another node on the network of vde0 \(IPv6 duplicate address detection failed\): choose another address/);
    expect(error!.message).toMatch(/'-ip=fc00::1\/64'.*\(configuration item 'ip=fc00::1\/64'\)$/);
    expect(entry(second, 'fc00::1')).toMatchObject({ dadFailed: true, tentative: true });
    expect(await listenNow(second, 'fc00::1')).toBe('EADDRNOTAVAIL');
    expect(await listenNow(first, 'fc00::1')).toBe('listening');  // the owner keeps it
    // Another address on the same network is fine.
    second.config('-ip=fc00::1/64,ip=fc00::2/64');
    expect(await listenNow(second, 'fc00::2')).toBe('listening');

    // Stack.fromConfigAsync: the same error, and the stack it made is closed again.
    const children = childrenOf(process.pid).length;
    await expect(Stack.fromConfigAsync(`vnl=${joiner()} eth ip=fc00::1/64`)).rejects.toMatchObject({ code: 'ERR_IOTH_DUPLICATE_ADDRESS', address: 'fc00::1' });
    expect(childrenOf(process.pid).length).toBe(children);
  });

  test('the register hook stops the program with one line naming the address, before it runs', async () => {
    const first = track(new Stack('vdestack', hub()));
    first.config('eth,ip=fc00::1/64');
    const run = await hooked('listen-at-once.js', ['fc00::1', '8080'], { IOTH_VNL: joiner(), IOTH_CONFIG: 'eth,ip=fc00::1/64' });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');  // the program never started
    expect(run.stderr).toMatch(/^iothts\/register: IOTH_CONFIG="'eth','ip=fc00::1\/64'": fc00::1 is already used by another node on the network of vde0 .*\n$/);
  });
});

describe('a link that is down', () => {
  test('an IPv6 address on a down link stays tentative: ENETDOWN says so at once, rather than a timeout', () => {
    const stack = track(new Stack('vdestack', hub()));
    const t0 = Date.now();
    expect(() => stack.config('ip=fc00::7/64')).toThrow(expect.objectContaining({
      code: 'ENETDOWN', address: 'fc00::7', iface: 'vde0',
      message: expect.stringMatching(/^fc00::7 on vde0 stays tentative, unusable: duplicate address detection waits for the link, which is down \(add 'eth'/),
    }));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(entry(stack, 'fc00::7')).toMatchObject({ tentative: true });
    // With nodad the address is usable even so.
    stack.config('ip=fc00::8/64,nodad');
    expect(entry(stack, 'fc00::8')).toMatchObject({ tentative: false, nodad: true });
  });
});

describe('nodad: for addresses known to be unique', () => {
  test('ipAddrAdd stays immediate (tentative, EADDRNOTAVAIL at once); with { nodad: true } the address is usable at once', async () => {
    const stack = track(new Stack('vdestack', hub()));
    stack.linkSetUpDown('vde0', true);
    stack.ipAddrAdd('fc00::10', 64, 'vde0');
    expect(entry(stack, 'fc00::10')).toMatchObject({ tentative: true, nodad: false });
    expect(await listenNow(stack, 'fc00::10')).toBe('EADDRNOTAVAIL');
    stack.ipAddrAdd('fc00::11', 64, 'vde0', { nodad: true });
    const info = entry(stack, 'fc00::11')!;
    expect(info).toMatchObject({ tentative: false, dadFailed: false, nodad: true, cidr: 'fc00::11/64' });
    expect(info.flags & 0x02).toBe(0x02);  // IFA_F_NODAD
    expect(await listenNow(stack, 'fc00::11')).toBe('listening');
    stack.ipAddrAdd('fc00::12', 64, 'vde0', { nodad: false });
    expect(entry(stack, 'fc00::12')).toMatchObject({ tentative: true, nodad: false });
    expect(() => stack.ipAddrAdd('fc00::11', 64, 'vde0', { nodad: true })).toThrow(expect.objectContaining({
      code: 'EEXIST', syscall: 'ioth_ipaddr_add', message: expect.stringContaining('adding fc00::11/64 (nodad) on interface 2'),
    }));
    stack.ipAddrDel('fc00::11', 64, 'vde0');
    expect(entry(stack, 'fc00::11')).toBeUndefined();
  });

  test("the configuration's nodad: the string's IPv6 addresses are usable when config returns, without the wait", async () => {
    const stack = track(new Stack('vdestack', hub()));
    const r = stack.config('eth,ip=fc00::20/64,ip=10.0.0.20/24,nodad');
    expect(r.addresses).toEqual(['fc00::20/64', '10.0.0.20/24']);
    expect(entry(stack, 'fc00::20')).toMatchObject({ tentative: false, nodad: true });
    expect(await listenNow(stack, 'fc00::20')).toBe('listening');
    const run = await hooked('listen-at-once.js', ['fc00::21', '8080'], { IOTH_VNL: joiner(), IOTH_CONFIG: 'eth,ip=fc00::21/64,nodad' });
    expect(run).toEqual({ code: 0, stdout: 'listening fc00::21 8080\n', stderr: '' });
  });
});
