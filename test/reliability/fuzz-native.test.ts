// Property-based fuzzing of the native addon (test/fixtures/fuzz-native.js), in a child process:
// a segfault or an abort there is a failed test with the call that caused it, not a dead jest
// worker. FC_SEED and FC_RUNS (or FC_RUNS_SCALE) choose the seed and the number of inputs.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const fixture = path.join(__dirname, '..', 'fixtures', 'fuzz-native.js');
// About 30 s on a quiet 2-core machine; the bound leaves room for a busy one.
const LIMIT_MS = 90000;

function runChild(trace: boolean) {
  return spawnSync(process.execPath, [fixture], {
    env: { ...process.env, FUZZ_TRACE: trace ? '1' : '0' },
    encoding: 'utf8',
    timeout: LIMIT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 256 << 20,
  });
}

test('every native entry point, called with hostile arguments, returns or throws a coded error', () => {
  const child = runChild(false);
  if (child.status !== 0) {
    // Again with a trace: the last call written before a crash or a hang is the culprit.
    const again = runChild(true);
    const lastCalls = (again.stderr ?? '').split('\n').filter((l) => l.startsWith('call: ')).slice(-3).join('\n');
    const how = child.signal ? `was killed by ${child.signal}${child.error ? ` (${child.error.message})` : ''}` : `exited ${child.status}`;
    throw new Error(`the fuzzing child ${how}\n--- its stderr:\n${child.stderr.slice(-4000)}\n--- last calls of a traced rerun:\n${lastCalls}`);
  }
  const report = JSON.parse(child.stdout.trim().split('\n').at(-1) as string);
  const tried = Object.values(report.runs as Record<string, number>).reduce((a, b) => a + b, 0);
  console.log(`fuzz-native: seed ${report.seed}, inputs tried ${tried} (${JSON.stringify(report.runs)}), ` +
    `outcomes ${JSON.stringify(report.outcomes)}`);
  expect(report.calls).toBe(tried);
  expect(report.fdsAfter).toBe(report.fdsBefore); // nothing leaked by thousands of calls
  if (tried < 5000) return; // a short run (FC_RUNS) reproducing a failure need not cover it all
  // Both kinds of outcome occurred: refusals of every Node-style kind, and calls that got through
  // to libioth (successes and system errors).
  for (const code of ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE', 'ERR_INVALID_ARG_COUNT']) {
    expect(report.outcomes[code]).toBeGreaterThan(0);
  }
  expect(Object.keys(report.outcomes).filter((k) => k.endsWith(' ok')).length).toBeGreaterThanOrEqual(10);
  expect(Object.keys(report.outcomes).filter((k) => /^E[A-Z]+$/.test(k)).length).toBeGreaterThanOrEqual(2);
}, LIMIT_MS * 2 + 10000);
