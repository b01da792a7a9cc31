// Load: 2,000 connections held by one server on a stack while autocannon (unmodified, under the
// hook, on a stack of its own) loads it for 10 s; zero failed requests, every held connection
// still answering afterwards, flat server RSS. The driver is bench/reliability/load.ts, which
// `npm run soak` runs for 60 s; each part is a child process, so a crash fails the test, not jest.
import { execFile } from 'node:child_process';
import * as path from 'node:path';

const driver = path.resolve(__dirname, '..', '..', 'dist', 'bench', 'reliability', 'load.js');

test('one server holds 2,000 connections through 10 s of autocannon: no failed request, flat memory', async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [driver, '--connections', '2000', '--seconds', '10'], { timeout: 150000 }, (err, out, errOut) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: out, stderr: errOut });
    });
  });
  const lines = stdout.trim().split('\n');
  const report = JSON.parse(lines[lines.length - 1]);
  if (code !== 0) console.log(stderr, report);
  expect(report.failures).toEqual([]);
  expect(report).toMatchObject({
    pass: true, held: 2000, failedToOpen: 0, stillAnswering: 2000, failedAfterLoad: 0, closedDuringLoad: 0,
  });
  expect(report.serverOpenBeforeLoad).toBeGreaterThanOrEqual(2000);
  expect(report.serverPeak).toBeGreaterThanOrEqual(2000 + 32);
  expect(report.requests).toMatchObject({ errors: 0, timeouts: 0, non2xx: 0, mismatches: 0, resets: 0 });
  expect(report.requests.total).toBeGreaterThan(1000);
  expect(report.requests.ok2xx).toBe(report.requests.total);
  expect(report.memory.samples).toBeGreaterThanOrEqual(9);
  expect(report.memory.flat).toBe(true);
  expect(code).toBe(0);
}, 180000);
