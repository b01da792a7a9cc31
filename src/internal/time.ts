// Waiting on the synchronous paths (config() like ioth_config, close() and exit lingering), where
// the event loop cannot run.

/** Blocks the thread for `ms`. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * A monotonic clock in ms. Not performance.now(): the global `performance` is made at its first
 * use, and making it costs ~12 M instructions (1-2 ms), which every exit under the hook paid.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
