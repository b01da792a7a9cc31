// Keeps a DHCP lease alive while the stack lives: renew at T1 (retrying until T2), rebind at T2
// (retrying until the lease ends), and when it ends or the server refuses, take the configuration
// back and look for a new lease. Timers are unref'd: a lease never keeps the process alive.
import { Exchange, drain, runAsync } from './exchange';

export interface LeaseTimes {
  obtained: Date;
  renewalTime: number;
  rebindingTime: number;
  /** Seconds, Infinity for a permanent lease. */
  leaseTime: number;
}

export interface LeaseProtocol<L extends LeaseTimes> {
  fd: number;
  acquire(): Exchange<L | 'nak' | null>;
  renew(lease: L, rebinding: boolean): Exchange<L | 'nak' | null>;
  /** The lease changed (null: it is gone). */
  changed(lease: L | null): void;
}

const MAX_TIMER = 0x7fffffff;
const RETRY_MS = 4000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => { signal.removeEventListener('abort', abort); resolve(); }, Math.min(ms, MAX_TIMER));
    timer.unref();
    const abort = () => { clearTimeout(timer); reject(signal.reason); };
    signal.addEventListener('abort', abort, { once: true });
  });
}

async function sleepUntil(when: number, signal: AbortSignal): Promise<void> {
  while (Date.now() < when) await sleep(when - Date.now(), signal);
}

export class LeaseKeeper<L extends LeaseTimes> {
  readonly #abort = new AbortController();

  constructor(readonly protocol: LeaseProtocol<L>, lease: L) {
    this.#run(lease).catch((err) => {
      if (!this.#abort.signal.aborted) process.emitWarning(`iothts: lease keeping stopped: ${(err as Error).message}`, 'IothtsWarning');
    });
  }

  stop(): void {
    this.#abort.abort();
  }

  async #exchange(exchange: Exchange<L | 'nak' | null>, deadline?: number): Promise<L | 'nak' | null> {
    drain(this.protocol.fd);
    return runAsync(this.protocol.fd, exchange, { signal: this.#abort.signal, unref: true, deadline });
  }

  /** Tries until it works or `deadline` is near, waiting half the time left between tries (RFC 2131 4.4.5). */
  async #retry(deadline: number, attempt: () => Exchange<L | 'nak' | null>): Promise<L | 'nak' | null> {
    for (;;) {
      const result = await this.#exchange(attempt(), deadline);
      const left = deadline - Date.now();
      if (result || left < 2000) return result;
      await sleep(Math.max(1000, Math.min(left / 2, 60000)), this.#abort.signal);
    }
  }

  async #run(first: L): Promise<void> {
    const signal = this.#abort.signal;
    let lease: L | null = first;
    for (;;) {
      if (lease) {
        if (!Number.isFinite(lease.renewalTime)) return;
        const at = (s: number) => lease!.obtained.getTime() + s * 1000;
        const held: L = lease;
        await sleepUntil(at(held.renewalTime), signal);
        let next = await this.#retry(at(held.rebindingTime), () => this.protocol.renew(held, false));
        if (!next) {
          await sleepUntil(at(held.rebindingTime), signal);
          next = await this.#retry(at(held.leaseTime), () => this.protocol.renew(held, true));
        }
        if (!next) await sleepUntil(at(held.leaseTime), signal);
        lease = next === 'nak' ? null : next;
        this.protocol.changed(lease);
      } else {
        const next = await this.#exchange(this.protocol.acquire());
        if (next && next !== 'nak') {
          lease = next;
          this.protocol.changed(lease);
        } else {
          await sleep(RETRY_MS, signal);
        }
      }
    }
  }
}
