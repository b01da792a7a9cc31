// Waiting for a condition instead of sleeping a fixed time: the wait ends as soon as it holds, and
// a wait that runs out says what did not happen.
import { setTimeout as sleep } from 'node:timers/promises';

export interface UntilOptions {
  /** How long to wait in all, ms (default 15000). */
  timeout?: number;
  /** How often to ask, ms (default 50). */
  interval?: number;
}

type Maybe<T> = T | undefined | null | false;

/**
 * Resolves with the first truthy value `predicate` returns (it may return a promise), asking every
 * `interval` ms; rejects with "`what`: not within `timeout` ms" when the time runs out (`what` may
 * be a function, to say how far things got: "200 echoes (180 so far)").
 */
export async function until<T>(what: string | (() => string), predicate: () => Maybe<T> | Promise<Maybe<T>>,
  { timeout = 15000, interval = 50 }: UntilOptions = {}): Promise<T> {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() >= end) throw new Error(`${typeof what === 'function' ? what() : what}: not within ${timeout} ms`);
    await sleep(Math.min(interval, Math.max(0, end - Date.now())));
  }
}
