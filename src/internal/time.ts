// Waiting on the synchronous paths (config() like ioth_config, close() and exit lingering), where
// the event loop cannot run.

/** Blocks the thread for `ms`. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
