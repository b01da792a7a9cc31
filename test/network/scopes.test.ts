// Stacks scoped to an async context (stack.run, runOnHost), with unmodified fetch, ws and node:dns:
// two tenants interleaved over 1,000 requests, each seen from its own address and none crossing;
// the pools split by stack; servers, nesting, a closed stack and a Worker in a scope
// (test/fixtures/scopes/tenants.js, in this run's private netns); and a hermetic run in an empty
// network namespace under the hook, where anything sent to the host would fail, with runOnHost's
// control failing there because it did go to the host (hermetic.js).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const fixtures = path.join(__dirname, '..', 'fixtures', 'scopes');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: root, env: { ...process.env, ...env }, timeout: 60000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(args.find((a) => a.endsWith('.js')) ?? cmd)} failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

test('two tenants in scopes: 1,000 interleaved fetch, ws and resolve4 requests, each from its own address; pools, servers, nesting, closed stacks, workers', async () => {
  const report = await run(process.execPath, [path.join(fixtures, 'tenants.js'), '1000']);
  const tenant = { fetch: 167, ws: 167, resolve4: 166, crossed: [] };
  expect(report.tenants).toEqual([expect.objectContaining(tenant), expect.objectContaining(tenant)]);
  // keep-alive still works inside each scope: a few connections, not one per request
  for (const t of report.tenants as Array<{ ports: number }>) expect(t.ports).toBeLessThanOrEqual(3);
  // the fetches, the agent's 4, nesting's 4, the handler's 2 (its own fetch), the closing scope's 1
  expect(report.seenByServer).toBe(2 * 167 + 4 + 4 + 2 + 1);
  // Outside every scope this process is on the host (no route to the virtual network there): no
  // connection pooled in a scope served it.
  expect(report.outside).toBe('ENETUNREACH');
  expect(report.lookupOutside).not.toBe('no error');
  // One keep-alive agent from both scopes: each reuses its own connection, never the other's.
  expect(report.agent).toEqual({ from: ['::ffff:10.0.0.2', '::ffff:10.0.0.3', '::ffff:10.0.0.2', '::ffff:10.0.0.3'], reusedA: true, reusedB: true });
  expect(report.nesting).toEqual({
    inner: '::ffff:10.0.0.3', hostInside: 'ENETUNREACH', stackInsideHost: '::ffff:10.0.0.2', afterAwait: '::ffff:10.0.0.2', args: 42,
  });
  // A server that listens in a scope answers from its stack, and its handler's own fetch is on it.
  expect(JSON.parse(report.handler as string)).toMatchObject({ from: '::ffff:10.0.0.1', local: '::ffff:10.0.0.1' });
  expect(report.closedRun).toBe('ERR_IOTH_STACK_CLOSED');
  expect(report.closing).toEqual({ before: '::ffff:10.0.0.5', connect: 'ENETDOWN', fetch: 'ENETDOWN', resolve4: 'ERR_IOTH_STACK_CLOSED' });
  expect(report.hostConnections).toBe(0); // the closed scope's connect did not reach the host's server
  expect(report.worker).toBe('ERR_IOTH_SCOPE_WORKER');
}, 90000);

test('hermetic: scopes in an empty network namespace under the hook leak nothing to the host; runOnHost reaches the host', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-scopes-'));
  try {
    const report = await run('unshare', ['--net', '--', process.execPath, '--import', 'iothts/register', path.join(fixtures, 'hermetic.js'), dir],
      { IOTH_VNL: `hub://${dir}/hub`, IOTH_CONFIG: 'eth,ip=10.0.0.1/24' });
    expect(report.before).toBe('::ffff:10.0.0.1'); // the hook's own stack, pooled before the first scope
    expect(report.tenants).toEqual([2, 3].map((n) => ({ n, fetched: `::ffff:10.0.0.${n}`, ws: `::ffff:10.0.0.${n}`, resolve4: `10.0.0.${n}` })));
    expect(report.hostSockets).toBe(0);
    // The control: the same fetch in runOnHost went to the host, where nothing is up.
    expect(report.control).toEqual({ fetch: 'ENETUNREACH', defaultFetch: '::ffff:10.0.0.1' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60000);
