// The hermetic check: an app using stack.net, stack.dgram, stack.dns and an http agent runs in an
// empty network namespace (no interface up, not even lo), where any socket or query that used the
// host stack would fail. It passes only if everything went through the stacks.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

test('an app on stacks works in an empty network namespace, and the host stack there reaches nothing', () => {
  const out = execFileSync('unshare', ['--net', '--', process.execPath, path.join(__dirname, '..', 'fixtures', 'hermetic-app.js')], {
    cwd: path.resolve(__dirname, '..', '..'), encoding: 'utf8', timeout: 30000, stdio: ['ignore', 'pipe', 'pipe'],
  });
  expect(JSON.parse(out)).toEqual({
    resolve4: ['10.0.0.1'],
    lookup: { address: '10.0.0.1', family: 4 },
    http: 'hello 10.0.0.2',
    udp: 'ping',
    hostTcp: 'ENETUNREACH',
    hostDns: expect.stringMatching(/^E/),
  });
});
