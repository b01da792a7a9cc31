// Plugins whose descriptors are not kernel sockets (user-space stacks such as picox) cannot give
// Node a socket: iothts refuses them when a socket is opened. The plugin here is a real libioth
// plugin, compiled by the test and loaded by libioth from $HOME/.ioth, whose sockets are eventfds.
// (It runs in a child process: libioth reads HOME from the real environment.)
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

let home: string;
beforeAll(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-home-'));
  fs.mkdirSync(path.join(home, '.ioth'));
  execFileSync('cc', ['-shared', '-fPIC', '-o', path.join(home, '.ioth', 'ioth_notsock-r.so'),
    path.join(__dirname, '..', 'fixtures', 'ioth_notsock.c')], { stdio: 'inherit' });
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

test('its non-socket descriptors are refused with ENOTSOCK, and none is left open', () => {
  // socketFd throws; sockets report the refusal as their 'error' event, as Node reports open errors.
  const script = `
    const fs = require('node:fs');
    const { Stack, installedPlugins } = require('iothts');
    const stack = new Stack('notsock');
    const asEvent = (emitter) => new Promise((resolve) => emitter.once('error', resolve));
    const attempt = async () => {
      const errors = [];
      try { stack.socketFd(4, 'tcp'); errors.push('no error'); } catch (e) { errors.push(e); }
      errors.push(await asEvent(stack.net.connect(80, '10.0.0.1')));
      errors.push(await asEvent(stack.dgram.createSocket('udp4').bind(0)));
      return errors;
    };
    (async () => {
      await attempt(); // the first round lets Node open what it keeps open (e.g. /dev/null)
      const fds = fs.readdirSync('/proc/self/fd').length;
      const errors = await attempt();
      const leaked = fs.readdirSync('/proc/self/fd').length - fds;
      stack.close();
      console.log(JSON.stringify({ plugins: installedPlugins(), errors: errors.map((e) => e.code + ' ' + e.message), leaked }));
    })();`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], {
    cwd: path.resolve(__dirname, '..', '..'), env: { ...process.env, HOME: home }, encoding: 'utf8', timeout: 20000,
  }));
  expect(out.plugins).toEqual(expect.arrayContaining(['notsock', 'vdestack']));
  expect(out.errors).toHaveLength(3);
  const hint = /^ENOTSOCK .*"notsock" plugin does not provide kernel sockets/;
  expect(out.errors[0]).toMatch(hint); // socketFd
  expect(out.errors[1]).toMatch(/^ENOTSOCK connect ENOTSOCK 10\.0\.0\.1:80/); // from Node's connect, in its words
  expect(out.errors[2]).toMatch(hint); // dgram bind
  expect(out.leaked).toBe(0);
});
