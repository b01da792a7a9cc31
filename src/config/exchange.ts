// The configuration protocols (DHCPv4, DHCPv6, router solicitation) are written once, as generators
// that yield "send this" and "wait up to N ms for a datagram" steps, and run by one of two drivers:
// runSync blocks the thread (stack.config(), the register hook: nothing runs before the network is
// ready, as with ioth_config), runAsync waits with timers (stack.configAsync(), lease renewals).
// Both use the addon's plain sendto/poll/recvfrom on the stack's own socket, so raw ICMPv6
// sockets work as well as UDP ones.
import { closeSync } from 'node:fs';
import { parseIp, formatIp } from '../internal/address';
import { native } from '../internal/native';

export interface Datagram {
  data: Buffer;
  address: string;
  port: number;
  scopeId: number;
}

export interface SendStep {
  send: Buffer;
  address: string;
  port: number;
  scopeId?: number;
}

export type Step = SendStep | { receive: number };

/** A protocol run: yields steps, gets back a Datagram (or null on timeout) after each receive. */
export type Exchange<T> = Generator<Step, T, Datagram | null | undefined>;

/**
 * Sends `packet` and waits for a reply that `accept` turns into a value, retransmitting after each
 * timeout in `timeouts` (ms); null when every wait ran out.
 */
export function* transact<T>(
  packet: () => Step, accept: (d: Datagram) => T | null, timeouts: number[],
): Exchange<T | null> {
  for (const timeout of timeouts) {
    yield packet();
    const deadline = Date.now() + timeout;
    for (let left = timeout; left > 0; left = deadline - Date.now()) {
      const datagram = yield { receive: left };
      if (!datagram) break;
      const value = accept(datagram);
      if (value !== null) return value;
    }
  }
  return null;
}

function send(fd: number, step: SendStep): void {
  const ip = parseIp('address', step.address);
  try {
    native.sendTo(fd, step.send, ip.family, ip.bytes, step.port, step.scopeId ?? 0);
  } catch (err) {
    // An IPv6 link-local source is unusable for about a second after the link comes up (duplicate
    // address detection): the datagram is lost like any other, and the retransmission repeats it.
    if ((err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw err;
  }
}

function receive(fd: number, timeout: number): Datagram | null {
  const r = native.recvFrom(fd, Math.max(0, Math.min(60000, Math.ceil(timeout))));
  return r && { data: r.data, address: formatIp(r.address), port: r.port, scopeId: r.scopeId };
}

/** Runs an exchange to its end, blocking this thread while it waits. */
export function runSync<T>(fd: number, exchange: Exchange<T>): T {
  let input: Datagram | null | undefined;
  for (;;) {
    const next = exchange.next(input);
    if (next.done) return next.value;
    const step = next.value;
    input = 'send' in step ? (send(fd, step), undefined) : receive(fd, step.receive);
  }
}

const POLL_MS = 10;

export interface AsyncOptions {
  signal?: AbortSignal;
  /** Let the process exit while waiting (background renewals). */
  unref?: boolean;
  /** Give up at this time (ms since the epoch): the exchange then ends with null. */
  deadline?: number;
}

/** Runs an exchange without blocking: the socket is polled every few ms while a step waits. */
export async function runAsync<T>(
  fd: number, exchange: Exchange<T>, { signal, unref, deadline = Infinity }: AsyncOptions = {},
): Promise<T | null> {
  let input: Datagram | null | undefined;
  for (;;) {
    signal?.throwIfAborted();
    if (Date.now() >= deadline) return (exchange.return(null as T), null);
    const next = exchange.next(input);
    if (next.done) return next.value;
    const step = next.value;
    if ('send' in step) {
      send(fd, step);
      input = undefined;
      continue;
    }
    const until = Math.min(deadline, Date.now() + step.receive);
    input = receive(fd, 0);
    while (!input && Date.now() < until) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.min(POLL_MS, until - Date.now()));
        if (unref) timer.unref();
      });
      signal?.throwIfAborted();
      input = receive(fd, 0);
    }
  }
}

/** Discards what queued on the socket while nobody listened (stale replies). */
export function drain(fd: number): void {
  while (receive(fd, 0));
}

/** A socket from `open`, prepared by `setup`; closed again if setup fails. */
export function preparedSocket(open: () => number, setup: (fd: number) => void): number {
  const fd = open();
  try {
    setup(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}
