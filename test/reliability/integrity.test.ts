// Integrity: data in both directions at once over one TCP connection between two stacks on vxvde,
// SHA-256 identical on both sides; then through a link that loses 5 % of the frames and reorders
// them (VDE's wirefilter, see bench/reliability/integrity.ts), whose loss and reordering are
// measured first by a UDP probe. `npm run soak` moves 1 GiB each way, with and without loss.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import type { integrityRun } from '../../bench/reliability/integrity';

const driver = path.resolve(__dirname, '..', '..', 'dist', 'bench', 'reliability', 'integrity.js');

function run(args: string[], ms: number): Promise<Awaited<ReturnType<typeof integrityRun>>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [driver, ...args], { timeout: ms }, (err, out, errOut) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (err) reject(new Error(`integrity ${args.join(' ')}: ${err.message}\n${errOut}\n${out}`));
      else resolve(JSON.parse(last));
    });
  });
}

test('256 MiB each way at once over vxvde: the same SHA-256 on both sides', async () => {
  const r = await run(['--mib', '256', '--timeout', '90'], 120000);
  expect(r.identical).toBe(true);
  expect(r.aToB.bytes).toBe(256 * 1024 * 1024);
  expect(r.bToA.bytes).toBe(256 * 1024 * 1024);
  expect(r.aToB.received).toBe(r.aToB.sent);
  expect(r.bToA.received).toBe(r.bToA.sent);
  expect(r.aToB.sent).not.toBe(r.bToA.sent);
}, 120000);

// About 5 s alone; the bound is generous for a loaded CI machine: this test is about the bytes.
test('32 MiB each way through 5 % loss with reordering: the same SHA-256 on both sides', async () => {
  const r = await run(['--mib', '32', '--loss', '5', '--timeout', '120'], 150000);
  // The link really loses and reorders (1000 numbered datagrams).
  expect(r.probe!.lossPct).toBeGreaterThanOrEqual(2);
  expect(r.probe!.lossPct).toBeLessThanOrEqual(10);
  expect(r.probe!.reordered).toBeGreaterThan(10);
  expect(r.identical).toBe(true);
  expect(r.aToB.bytes).toBe(32 * 1024 * 1024);
  expect(r.bToA.bytes).toBe(32 * 1024 * 1024);
}, 160000);
