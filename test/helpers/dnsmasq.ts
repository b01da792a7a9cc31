// dnsmasq, a real DHCPv4/DHCPv6 server and IPv6 router, run under `vdens` on a VNL: the peer the
// configuration protocols are tested against. Its log (every DHCP message, one line each) is kept.
import { ChildProcess, spawn } from 'node:child_process';

export interface Dnsmasq {
  log(): string;
  /** Resolves once `pattern` has appeared in the log (rejects after `ms`). */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

/** dnsmasq on `vnl`, at 10.1.0.1/24 and fd00:1::1/64, handing out 10.1.0.100-150 and fd00:1::100-1ff. */
export async function startDnsmasq(vnl: string, extra: string[] = []): Promise<Dnsmasq> {
  const args = [
    '-d', '-u', 'root', '-g', 'root', '--conf-file=/dev/null', '--pid-file=', '--port=0', '--log-dhcp',
    '-i', 'vde0', '--bind-interfaces', '--no-ping', '--dhcp-leasefile=/dev/null',
    '--dhcp-range=10.1.0.100,10.1.0.150,2m', '--dhcp-option=option:dns-server,10.1.0.53', '--domain=test.example',
    '--dhcp-range=fd00:1::100,fd00:1::1ff,64,2m', '--enable-ra', '--dhcp-option=option6:dns-server,[fd00:1::53]',
    ...extra,
  ].map((a) => `'${a}'`).join(' ');
  const shell = 'ip link set lo up && ip link set vde0 up && ip addr add 10.1.0.1/24 dev vde0 && ' +
    `ip -6 addr add fd00:1::1/64 dev vde0 nodad && { dnsmasq ${args} 2>&1 & echo "dnsmasq-pid=$!"; wait; }`;
  const child: ChildProcess = spawn('vdens', [vnl, 'bash', '-c', shell], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer) => { out += d; waiters.forEach((w) => w()); };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const waitFor = (pattern: RegExp, ms = 10000) => new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!pattern.test(out)) return;
      clearTimeout(timer);
      waiters.splice(waiters.indexOf(check), 1);
      resolve();
    };
    const timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(check), 1);
      reject(new Error(`dnsmasq: no ${pattern} within ${ms} ms; log:\n${out}`));
    }, ms);
    waiters.push(check);
    check();
  });
  await waitFor(/sockets bound exclusively/);
  const pid = Number(/dnsmasq-pid=(\d+)/.exec(out)?.[1]);
  return {
    log: () => out,
    waitFor,
    async stop() {
      if (pid) try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
      await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
