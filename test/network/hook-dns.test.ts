// Under the hook, node:dns's lookup() and lookupService() are Node's own functions, answered by the
// stack's resolver through the binding calls they make (src/override/dns-binding.ts): results,
// request objects, errors, util.promisify and the `dns` performance entries are compared with
// native Node in the same run, each in an empty network namespace of its own; and a name that only
// a DNS server on the stack knows resolves under the hook (so the stack answered, not the host).
import { execFile } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const fixture = path.join(__dirname, '..', 'fixtures', 'hook', 'dns-own.js');

type Report = Record<string, unknown> & { entries: Array<{ name: string; detail: unknown }> };

function run(hooked: boolean): Promise<Report> {
  const { NODE_OPTIONS: _, ...clean } = process.env;
  const env = hooked ? { ...clean, IOTH_VNL: 'null://', IOTH_CONFIG: 'eth,ip=10.0.0.1/24,dns=10.0.0.1', SERVE: '10.0.0.1' } : clean;
  const node = [process.execPath, ...(hooked ? ['--import', 'iothts/register'] : []), fixture];
  // Natively the empty namespace needs its loopback up, as a stack's is.
  const script = `${hooked ? '' : 'ip link set lo up && '}exec "$@"`;
  return new Promise((resolve, reject) => {
    execFile('unshare', ['--net', '--', 'sh', '-c', script, 'sh', ...node], { cwd: root, env, timeout: 25000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${hooked ? 'hooked' : 'native'} run failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

test('lookup() and lookupService() under the hook answer as native Node, with its request objects and dns performance entries', async () => {
  const [native, hooked] = await Promise.all([run(false), run(true)]);
  const { stackOnly, entries, ...rest } = hooked;
  // Everything both can answer: the same, down to the entries' details (with the addresses).
  const { entries: nativeEntries, ...nativeRest } = native;
  expect(rest).toEqual(nativeRest);
  expect(entries.slice(0, nativeEntries.length)).toEqual(nativeEntries);
  expect(nativeEntries.map((e) => e.name)).toEqual(['lookup', 'lookup', 'lookup', 'lookup', 'lookupService', 'lookupService']);
  // Only the stack's DNS server knows this name: the stack's resolver answered, and Node made its entry.
  expect(stackOnly).toEqual({ value: { values: ['10.0.0.99', 4], req: 'GetAddrInfoReqWrap' } });
  expect(entries.slice(nativeEntries.length)).toEqual([{
    type: 'dns', name: 'lookup',
    detail: expect.objectContaining({ hostname: 'only.stack.test', family: 0, hints: 0, addresses: ['10.0.0.99'] }),
  }]);
});
