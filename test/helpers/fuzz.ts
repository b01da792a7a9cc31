// Helpers for the property-based tests: the hostile values of test/fixtures/hostile.js, seeds and
// run counts from FC_SEED / FC_RUNS, a tally of inputs tried, and the checks every thrown error
// must pass (a Node-style code, and a message naming what was wrong).
import * as fc from 'fast-check';
import { types } from 'node:util';
const shared = require('../fixtures/hostile.js') as {
  hostile: (options?: { sparse?: boolean; huge?: boolean }) => fc.Arbitrary<unknown>;
  HostileError: new () => Error;
  safeVnl: (v: unknown) => unknown;
  NODE_CODE: RegExp;
  fcParams: (runs: number, seed?: number) => { seed: number; numRuns: number };
  STRINGS: string[];
  NUMBERS: number[];
};
export const { hostile, HostileError, safeVnl, NODE_CODE, fcParams } = shared;

/** Inputs tried per property, printed at the end of each file (the "inputs tried" figure). */
export const tried: Record<string, number> = {};

/** The slowest bounded calls (ms, call), for the report. */
export const slowest: Array<[number, string]> = [];

export function report(file: string): void {
  const total = Object.values(tried).reduce((a, b) => a + b, 0);
  console.log(`${file}: seed ${fcParams(1).seed}, inputs tried ${total}: ${JSON.stringify(tried)}` +
    `${slowest.length ? `; slowest: ${JSON.stringify(slowest)}` : ''}`);
}

/** fc.assert with the seed and run count of the environment; counts the inputs tried. */
export function check<Ts>(name: string, defaultRuns: number, property: fc.IProperty<Ts>): void {
  const params = fcParams(defaultRuns);
  tried[name] = params.numRuns;
  fc.assert(property, params);
}

export async function checkAsync<Ts>(
  name: string, defaultRuns: number, property: fc.IAsyncProperty<Ts>,
): Promise<void> {
  const params = fcParams(defaultRuns);
  tried[name] = params.numRuns;
  await fc.assert(property, params);
}

/** The values a correct argument list is made of, for calls that should get past the checks. */
export const plausible = fc.oneof(
  fc.constantFrom('lo', 'vde0', 1, 2, 3, 0, '10.0.0.1', '10.0.0.2', '10.0.0.254', 'fd00::1', '10.1.0.0/16', 24, 64, 8,
    32, 128, true, false, null, undefined, '02:00:00:00:00:01', 'dummy', 'bridge', 4, 6, 'tcp', 'udp', 'IPv6', 1500, 9000,
    { nodad: true }, { nodad: false }),
  fc.integer({ min: 0, max: 65535 }),
);
export const arg = fc.oneof({ arbitrary: hostile(), weight: 1 }, { arbitrary: plausible, weight: 3 });

export function show(value: unknown): string {
  if (typeof value === 'string') return value.length > 60 ? `string(${value.length})` : JSON.stringify(value);
  if (Buffer.isBuffer(value)) return `Buffer(${value.length})`;
  try {
    return require('node:util').inspect(value, { depth: 1, breakLength: Infinity }).slice(0, 80);
  } catch {
    return '<uninspectable>';
  }
}

/**
 * The property every thrown error must have: an Error with a Node-style code; an argument error
 * (TypeError/RangeError, ERR_INVALID_ARG_*, ERR_OUT_OF_RANGE...) names one of `names` and says what
 * it received; a system error carries errno and syscall and says what was attempted.
 * Returns the code, for the tally. Throws a description of what is wrong otherwise.
 */
export function checkError(err: unknown, what: string, names: readonly string[], asNode?: () => void): string {
  if (err instanceof HostileError) return 'EHOSTILE';
  // (isNativeError: the addon's errors come from another realm than jest's test context.)
  if (!types.isNativeError(err)) throw new Error(`${what} threw a non-Error: ${show(err)}`);
  const e = err as NodeJS.ErrnoException;
  if (typeof e.code !== 'string' || !NODE_CODE.test(e.code)) {
    // Node's own API may throw uncoded errors too (a Symbol where a string goes): the same is fine.
    if (asNode && sameThrow(e, asNode)) return `as Node: ${e.name}`;
    throw new Error(`${what} threw ${e.name} without a Node-style code: ${e.message}`);
  }
  if (/^ERR_(INVALID_ARG_TYPE|INVALID_ARG_VALUE|OUT_OF_RANGE)$/.test(e.code)) {
    const named = names.some((n) => e.message.includes(`"${n}`) || e.message.includes(`'${n}`));
    if (!named) throw new Error(`${what}: ${e.code} does not name the argument (${names.join(', ')}): ${e.message}`);
    if (!/Received/.test(e.message)) throw new Error(`${what}: ${e.code} does not say what it received: ${e.message}`);
    if (e.name !== (e.code === 'ERR_OUT_OF_RANGE' ? 'RangeError' : 'TypeError')) throw new Error(`${what}: ${e.code} is a ${e.name}`);
  }
  // (node:dns's query errors have no errno, as c-ares's in Node.)
  if (/^E[A-Z0-9_]+$/.test(e.code) && e.syscall !== undefined &&
    (!(e.errno === undefined || (typeof e.errno === 'number' && e.errno < 0)) || !e.message.startsWith(`${e.syscall} ${e.code}`))) {
    throw new Error(`${what}: a system error not in Node's form: ${e.message}`);
  }
  return e.code;
}

function sameThrow(e: Error, asNode: () => void): boolean {
  try {
    asNode();
  } catch (theirs) {
    return (theirs as Error)?.name === e.name && (theirs as Error)?.message === e.message;
  }
  return false;
}

/** Counts outcomes by code ('ok' for success), for the test output. */
export class Tally {
  readonly counts: Record<string, number> = {};
  add(key: string): void {
    this.counts[key] = (this.counts[key] ?? 0) + 1;
  }
}

/**
 * Settles with the first outcome `run` reports through `done(() => outcome)` (a check that throws
 * rejects instead), or rejects after `ms`: a hang is a failure, never a stuck test.
 */
export function bounded<T>(ms: number, what: string, run: (done: (outcome: () => T) => void) => void): Promise<T> {
  const began = Date.now();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => done(() => { throw new Error(`${what}: no outcome within ${ms} ms`); }), ms);
    function done(outcome: () => T): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      slowest.push([Date.now() - began, what.slice(0, 120)]);
      slowest.sort((a, b) => b[0] - a[0]).splice(3);
      try {
        resolve(outcome());
      } catch (err) {
        reject(err);
      }
    }
    try {
      run(done);
    } catch (err) {
      done(() => { throw err; });
    }
  });
}
