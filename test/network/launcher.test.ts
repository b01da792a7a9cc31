// The `iothts` launcher: options to the hook's variables, errors in one line, the app's exit status.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const launcher = path.join(root, 'bin', 'iothts.js');
function iothts(args: string[], emptyNetns = false, cwd = root) {
  const argv = emptyNetns ? ['unshare', '--net', '--', process.execPath, launcher, ...args] : [process.execPath, launcher, ...args];
  return spawnSync(argv[0], argv.slice(1), { cwd, encoding: 'utf8', timeout: 30000 });
}

test('--help describes every option', () => {
  const { status, stdout } = iothts(['--help']);
  expect(status).toBe(0);
  for (const option of ['--stack', '--vnl', '--config', '--node-option', '--help', 'IOTH_STACK', 'IOTH_VNL', 'IOTH_CONFIG']) {
    expect(stdout).toContain(option);
  }
});

test.each([
  ['an unknown option', ['--bogus', 'app.js'], /^iothts: Unknown option '--bogus'/],
  ['no program', ['--vnl', 'null://'], /^iothts: no program given/],
  ['a VNL with blanks', ['--vnl', 'null:// x', 'app.js'], /^iothts: --vnl "null:\/\/ x": a VNL has no blanks/],
  ['a missing value', ['--config'], /^iothts: Option '-c, --config <value>' argument missing/],
])('%s: one line, exit 2', (_name, args, message) => {
  const { status, stderr, stdout } = iothts(args);
  expect(status).toBe(2);
  expect(stdout).toBe('');
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(message);
});

test('runs the app on the stack the options describe, in an empty netns, with its exit status', () => {
  const app = `
    const { overridingStack } = require('iothts');
    const stack = overridingStack();
    const http = require('http');
    const server = http.createServer((req, res) => res.end('served on ' + req.socket.localAddress));
    server.listen(80, '10.3.0.1', async () => {
      const text = await (await fetch('http://10.3.0.1/')).text();
      console.log(JSON.stringify({ text, links: stack.ifNameIndex().map((l) => l.name), mtu: stack.linkGetMtu('vde0') }));
      server.close(() => process.exit(3));
    });`;
  const { status, stdout, stderr } = iothts(['--vnl', 'null://', '-n', 'null://', '--config', 'eth,ip=10.3.0.1/24,mtu=1400', '--', '-e', app], true);
  expect(stderr).toBe('');
  expect(status).toBe(3);
  expect(JSON.parse(stdout)).toEqual({ text: 'served on 10.3.0.1', links: ['lo', 'vde0', 'vde1'], mtu: 1400 });
});

test('a bad setting stops the app before it runs, as the hook reports it', () => {
  const { status, stderr, stdout } = iothts(['--stack', 'nope', '--', '-e', 'console.log("ran")']);
  expect(status).toBe(1);
  expect(stdout).toBe('');
  expect(stderr).toMatch(/^iothts\/register: IOTH_STACK="nope": /);
});

describe('subcommands are recognised only as the first argument', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-launcher-'));
    fs.writeFileSync(path.join(dir, 'doctor'), 'console.log(JSON.stringify(["app", ...process.argv.slice(2)]));\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('--help names them and how to run a program called doctor', () => {
    const { stdout } = iothts(['--help']);
    expect(stdout).toMatch(/^ {7}iothts doctor \[--json\]/m);
    expect(stdout).toMatch(/^ {7}iothts setup-system/m);
    expect(stdout).toContain('iothts -- doctor');
  });

  test.each([
    [['--', 'doctor', 'x']],
    [['./doctor', 'x']],
    [['--vnl', 'null://', 'doctor', 'x']],
    [['-n', 'null://', '--', 'setup-system']],
  ])('iothts %j runs the app', (args) => {
    fs.copyFileSync(path.join(dir, 'doctor'), path.join(dir, 'setup-system'));
    const { status, stdout, stderr } = iothts(args, false, dir);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(JSON.parse(stdout)).toEqual(['app', ...args.slice(args.indexOf(args.find((a) => /doctor|setup-system/.test(a))!) + 1)]);
  });

  test('iothts doctor where a file named doctor exists: the doctor, saying how to run the file', () => {
    const { status, stdout, stderr } = iothts(['doctor', '--help'], false, dir);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^Usage: iothts doctor/);
    expect(stderr).toBe('iothts doctor: (to run ./doctor as an app instead: iothts -- doctor, or iothts ./doctor)\n');
  });
});
