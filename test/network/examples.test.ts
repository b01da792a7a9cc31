// The examples, run as a user runs them, against real peers: the echo pair over vxvde (in this
// run's private netns), curl from the host side through the gateway, and the identities.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { vxvdeGroup } from '../helpers/netns';
import { curlUnderVdens } from '../helpers/vdens';
import { until } from '../helpers/until';

const root = path.resolve(__dirname, '..', '..');
const example = (name: string) => path.join(root, 'dist', 'examples', `${name}.js`);
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGTERM');
});

function start(name: string, args: string[], readyText: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [example(name), ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => { out += d; if (out.includes(readyText)) resolve(child); });
    child.on('exit', (code) => reject(new Error(`${name} exited ${code}: ${out}`)));
  });
}

/** Runs an interactive client example, typing `lines` (each after the previous one's echo); its output and status. */
async function typeInto(name: string, vnl: string, lines: string[]): Promise<{ status: number | null; out: string }> {
  const client = spawn(process.execPath, [example(name), vnl], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(client);
  let out = '';
  client.stdout!.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((resolve) => client.on('exit', resolve));
  for (const [i, line] of lines.entries()) {
    client.stdin!.write(`${line}\n`);
    // One at a time, so that datagrams keep their order: the next line once this one came back.
    await until(`the echo of line ${i + 1}`, () => out.split('\n').length > i + 1, { timeout: 15000, interval: 20 });
  }
  client.stdin!.end();
  return { status: await exited, out };
}

test('echo_client and echo_server over vxvde', async () => {
  const vnl = vxvdeGroup();
  await start('echo_server', [vnl], 'listening on 10.0.0.1:5000');
  expect(await typeInto('echo_client', vnl, ['hello', 'over vxvde'])).toEqual({ status: 0, out: 'hello\nover vxvde\n' });
});

test('gateway: curl on the host side reaches a service that exists only on the virtual network', async () => {
  await start('gateway', ['18080'], 'forwarding 127.0.0.1:18080');
  const body = execFileSync('curl', ['-s', '-m', '10', 'http://127.0.0.1:18080/from-host'], { encoding: 'utf8' });
  expect(body).toBe('virtual service at 10.0.0.1 answering /from-host for 10.0.0.254\n');
});

test('identities: three stacks, each answering on its own address', () => {
  const out = execFileSync(process.execPath, [example('identities')], { cwd: root, encoding: 'utf8', timeout: 20000 });
  expect(out.trim().split('\n')).toEqual(['alice', 'bob', 'carol'].map((n, i) => `I am ${n} at 10.0.0.${i + 1}, you are ::ffff:10.0.0.100`));
});

test('tenants: three concurrent unmodified fetch loops, each in the scope of its own stack, each seen from its own address', () => {
  const out = execFileSync(process.execPath, [example('tenants'), '20'], { cwd: root, encoding: 'utf8', timeout: 20000 });
  expect(out.trim().split('\n')).toEqual([
    ...['alice', 'bob', 'carol'].map((n, i) => `${n}: 20 requests, seen as 10.0.0.${i + 2}`),
    'server saw 10.0.0.2 20 times, 10.0.0.3 20 times, 10.0.0.4 20 times',
  ]);
});

test('udp_echo_client and udp_echo_server over vxvde', async () => {
  const vnl = vxvdeGroup();
  await start('udp_echo_server', [vnl], 'udp echo server on 10.0.0.1:5000');
  expect(await typeInto('udp_echo_client', vnl, ['one', 'two'])).toEqual({ status: 0, out: 'one\ntwo\n' });
});

test('vhttp: curl under vdens fetches a file from Node\'s http server moved onto a stack with override()', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-vhttp-'));
  try {
    fs.writeFileSync(path.join(dir, 'hello.txt'), 'a file served over vxvde\n');
    const vnl = vxvdeGroup();
    await start('vhttp', [vnl, dir], 'serving');
    expect(await curlUnderVdens(vnl, '10.0.0.2', 'http://10.0.0.1:8000/hello.txt', children)).toBe('a file served over vxvde\n');
    expect(await curlUnderVdens(vnl, '10.0.0.3', 'http://10.0.0.1:8000/../../etc/passwd', children)).not.toContain('root:');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('express: the unmodified app under the launcher, curl under vdens as the client', async () => {
  const vnl = vxvdeGroup();
  const child = spawn(process.execPath, [path.join(root, 'bin', 'iothts.js'), '--vnl', vnl, '--config', 'eth,ip=10.0.0.1/24',
    path.join(root, 'examples', 'express.mjs')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => { if (String(d).includes('listening')) resolve(); });
    child.on('exit', (code) => reject(new Error(`express exited ${code}`)));
  });
  expect(JSON.parse(await curlUnderVdens(vnl, '10.0.0.2', 'http://10.0.0.1:3000/hello/you', children)))
    .toEqual({ hello: 'you', from: '::ffff:10.0.0.2' });
});

test('the demo (npm run demo) passes, and says what it checked', () => {
  const out = execFileSync(process.execPath, [example('demo')], { cwd: root, encoding: 'utf8', timeout: 20000 });
  expect(out).toContain('the server saw the client as 10.0.0.2');
  expect(out.trim().split('\n').pop()).toBe('Demo passed.');
});
