// dnsmasq, a real DHCPv4/DHCPv6 server and IPv6 router, run under `vdens` on a VNL: the peer the
// configuration protocols are tested against. Its log (every DHCP message, one line each) is kept.
//
// The log goes to a file, not a pipe: stack.config() blocks the test's thread for seconds, and a
// pipe nobody reads fills up (Node 22+ gives child stdio 64 KB socket buffers, Node 20 ~208 KB), after
// which dnsmasq blocks writing its log and answers nothing until config() has given up.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-dnsmasq-'));
  const file = path.join(dir, 'log');
  const fd = fs.openSync(file, 'w');
  const child: ChildProcess = spawn('vdens', [vnl, 'bash', '-c', shell], { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const log = () => fs.readFileSync(file, 'utf8');
  const waitFor = (pattern: RegExp, ms = 10000) => new Promise<void>((resolve, reject) => {
    const end = Date.now() + ms;
    const check = () => {
      if (pattern.test(log())) resolve();
      else if (Date.now() > end) reject(new Error(`dnsmasq: no ${pattern} within ${ms} ms; log:\n${log()}`));
      else setTimeout(check, 20);
    };
    check();
  });
  await waitFor(/sockets bound exclusively/);
  const pid = Number(/dnsmasq-pid=(\d+)/.exec(log())?.[1]);
  return {
    log,
    waitFor,
    async stop() {
      if (pid) try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
      await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
