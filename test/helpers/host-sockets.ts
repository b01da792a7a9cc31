// The sockets a process holds on the host's stack (the kernel stack of its own network namespace),
// as opposed to a virtual stack's: its socket descriptors whose inodes appear in its namespace's
// /proc/PID/net/{tcp,tcp6,udp,udp6}. A stack's sockets live in vdestack's namespace and never
// appear there. This catches leaks that do not fail, such as a listener bound on the host.
// Give it the app's processes only: a vdestack helper shares its app's descriptor table but
// lives in its stack's namespace, so through it the stack's own sockets would look like host ones.
import * as fs from 'node:fs';

export interface HostSocket {
  proto: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  local: string;
  port: number;
  state: string;
}

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT',
  '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING',
};

export function hostSockets(pid: number): HostSocket[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  const found: HostSocket[] = [];
  for (const proto of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
    const lines = fs.readFileSync(`/proc/${pid}/net/${proto}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      if (!inodes.has(f[9])) continue;
      const [addr, port] = f[1].split(':');
      found.push({ proto, local: addr, port: parseInt(port, 16), state: proto.startsWith('tcp') ? TCP_STATES[f[3]] ?? f[3] : f[3] });
    }
  }
  return found;
}

/** The network namespace of a process ("net:[4026532...]"); vdestack helpers are in their stack's. */
export function netnsOf(pid: number): string {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return '';
  }
}

/** `pid` and every process below it. */
export function descendants(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const task of fs.readdirSync(`/proc/${out[i]}/task`)) {
        const kids = fs.readFileSync(`/proc/${out[i]}/task/${task}/children`, 'utf8').trim();
        if (kids) out.push(...kids.split(/\s+/).map(Number));
      }
    } catch { /* gone */ }
  }
  return out;
}
