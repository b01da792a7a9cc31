// "Never lose bytes" (issue 10): with native Node, what a program has written is still sent by the
// host's kernel after the program closes its sockets or exits. A vdestack stack's kernel can only
// send while the stack lives, so before a stack is deleted (close(), process exit) iothts waits,
// within a bound, until the stack's TCP connections have nothing left to send. The kernel tells,
// through NETLINK_SOCK_DIAG inside the stack (the addon's tcpSummary), per TCP state, how many
// sockets still have bytes, or their FIN, not acknowledged by the peer, and each socket's endpoints:
// a connection whose peer is a socket of the stacks deleted at the same time is not waited for.
import { monotonicMs, sleepSync } from '../internal/time';
import { outOfRange } from '../internal/errors';
import { validateInteger } from '../internal/validators';
import type { NativeStack, NativeTcpSummary } from '../internal/native';

/**
 * The bound by default, in ms. A connection's send buffer holds at most a few MiB (tcp_wmem's
 * 4 MiB by default): over a VDE network on this machine (hundreds of MB/s) that is tens of ms, and
 * even at 20 Mbit/s it takes under 2 s. Past it the peer is most likely gone or stuck, and a
 * program's exit must not hang on it (the host's kernel would keep trying for minutes; a stack's
 * helper cannot outlive the program that way). 2 s is also iothts's bound on deleting a stack
 * (DELETE_BOUND_MS, src/internal/native.ts), a separate bound: a stack with linger 0 still gets it.
 */
export const DEFAULT_LINGER_MS = 2000;
/** The largest bound accepted (as setTimeout's): ~24.8 days. */
export const MAX_LINGER_MS = 2 ** 31 - 1;
/** The environment variable that sets the default bound of the stacks of a process. */
export const LINGER_VARIABLE = 'IOTHTS_LINGER';

// The kernel's TCP states (include/net/tcp_states.h).
const ESTABLISHED = 1;
const FIN_WAIT1 = 4;
const CLOSE_WAIT = 8;
const LAST_ACK = 9;
const CLOSING = 11;

/** A linger bound: an integer number of ms from 0 (do not wait) to MAX_LINGER_MS. */
export function checkLinger(name: string, value: unknown): number {
  return validateInteger(value, name, 0, MAX_LINGER_MS, { expected: 'of type number (milliseconds)', unit: 'milliseconds' });
}

/** The default bound: IOTHTS_LINGER (ms) when set, otherwise DEFAULT_LINGER_MS. */
export function defaultLinger(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[LINGER_VARIABLE];
  if (text === undefined || text === '') return DEFAULT_LINGER_MS;
  if (!/^\d+$/.test(text.trim())) {
    throw outOfRange(`process.env.${LINGER_VARIABLE}`, `an integer from 0 to ${MAX_LINGER_MS} (milliseconds)`, text);
  }
  return checkLinger(`process.env.${LINGER_VARIABLE}`, Number(text.trim()));
}

/** A connection as "local address, port, remote address, port"; IPv4-mapped addresses as IPv4 (a
 * dual-stack socket's peer may be an IPv4 socket). */
function endpoints(local: string, localPort: number, remote: string, remotePort: number): string {
  const v4 = (a: string): string => (a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a);
  return `${v4(local)} ${localPort} ${v4(remote)} ${remotePort}`;
}

/** The endpoints of every socket in these summaries: the sockets of the stacks deleted together. */
export function socketsOf(summaries: Iterable<NativeTcpSummary>): Set<string> {
  const out = new Set<string>();
  for (const sum of summaries) {
    for (const c of sum.connections) out.add(endpoints(c.local, c.localPort, c.remote, c.remotePort));
  }
  return out;
}

/**
 * How many connections still have something to send that would be lost with the stack.
 * Always: the connections the program has ended or destroyed (end(), destroy(), close(2)) whose
 * data or FIN the peer has not acknowledged yet: FIN_WAIT1 (our FIN sent or queued behind data,
 * not acknowledged), CLOSING (both FINs crossed, ours not acknowledged) and LAST_ACK (the peer
 * ended first, our FIN not acknowledged). Not FIN_WAIT2 and TIME_WAIT (everything we sent was
 * acknowledged: only the peer's side is left), nor SYN_SENT/SYN_RECV/LISTEN (no data of the
 * program's in flight). At exit (`exiting`), also the connections still open (ESTABLISHED,
 * CLOSE_WAIT) with unacknowledged bytes: nothing will write to them any more, so their queue only
 * drains. close() leaves those alone: the program still holds them, and may be writing to them.
 * Never a connection whose peer is one of `dying` (socketsOf the stacks deleted at the same time:
 * the same stack over loopback or its own addresses, another stack of this process): that peer
 * goes with them, so nothing would ever read what is left (natively, exit closes both ends).
 */
export function unfinished(sum: NativeTcpSummary, exiting: boolean, dying: ReadonlySet<string> = new Set()): number {
  let n = 0;
  for (const c of sum.connections) {
    const ended = c.state === FIN_WAIT1 || c.state === CLOSING || c.state === LAST_ACK;
    const open = exiting && (c.state === ESTABLISHED || c.state === CLOSE_WAIT) && c.unackedBytes > 0;
    if ((ended || open) && !dying.has(endpoints(c.remote, c.remotePort, c.local, c.localPort))) n++;
  }
  return n;
}

export interface Lingering {
  native: NativeStack;
  /** The bound in ms, counted from the start of the wait. */
  linger: number;
}

/**
 * Blocks until none of the stacks has unfinished connections, each for at most its bound, polling
 * every few ms (1, 2, 4, then 5 ms: a transfer that ends is seen at once, and an idle stack costs
 * one look, or none when it never had a TCP socket). Stacks are waited for together, so several
 * stacks at exit share one bound. A stack whose sockets cannot be listed (a plugin without
 * sock_diag) is not waited for.
 */
export function waitUntilSent(stacks: readonly Lingering[], exiting: boolean): void {
  const start = monotonicMs();
  // A stack that never had a TCP socket has nothing to wait for: no look at all (a sock_diag dump
  // walks the host's whole TCP hash table, ~1-15 ms here; stack deletion is benchmarked).
  const withTcp = stacks.filter((s) => {
    try {
      return s.native.hadTcp();
    } catch {
      return false;
    }
  });
  let waiting = withTcp.filter((s) => s.linger > 0);
  let pause = 1;
  for (;;) {
    // Each look lists every stack deleted now, the waited-for ones' peers included.
    const summaries = new Map<Lingering, NativeTcpSummary>();
    if (waiting.length > 0) {
      for (const s of withTcp) {
        try {
          summaries.set(s, s.native.tcpSummary());
        } catch {
          // not listable (a plugin without sock_diag): not waited for, and no one's peer
        }
      }
    }
    const dying = socketsOf(summaries.values());
    waiting = waiting.filter((s) => {
      const sum = summaries.get(s);
      return monotonicMs() - start < s.linger && sum !== undefined && unfinished(sum, exiting, dying) > 0;
    });
    if (waiting.length === 0) return;
    const left = Math.min(...waiting.map((s) => s.linger - (monotonicMs() - start)));
    sleepSync(Math.max(1, Math.min(pause, left)));
    pause = Math.min(pause * 2, 5);
  }
}
