// The socket fast path: with CAP_SYS_ADMIN, a vdestack stack's sockets are made by the calling
// thread itself, socket(2) between two setns(2) into the helper's network namespace and back,
// instead of a round trip to libioth's helper. These tests check that such sockets are the stack's,
// that the thread always comes back to its own namespace, that a process without the capability
// falls back to the helper with the same results, and that no descriptor is left behind.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Stack } from '../../src';
import { once, useTestNetwork } from '../helpers/network';
import { openFds } from '../helpers/procs';

const fixture = path.join(__dirname, '..', 'fixtures', 'socket-paths.js');
const threadNetns = (): string => fs.readlinkSync('/proc/thread-self/ns/net');

function runFixture(prefix: string[]): Promise<Record<string, unknown>> {
  const [cmd, ...args] = [...prefix, process.execPath, fixture];
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

const expectedFindings = {
  sameNs: true,
  fdsLeaked: 0,
  fromB: 'hello from a',
  fromALoopback: 'hello from a',
  fromHostLoopback: 'ECONNREFUSED', // the host's 127.0.0.1 is another namespace's
  bLocalAddress: '10.0.0.2',
};

test('as root, a vdestack stack makes its sockets by setns; other plugins through libioth', () => {
  const vde = new Stack('vdestack', 'null://');
  const kernel = new Stack('kernel');
  try {
    expect(vde.socketMode).toBe('setns');
    expect(kernel.socketMode).toBe('helper');
    const home = threadNetns();
    fs.closeSync(kernel.socketFd(4, 'tcp'));
    expect(threadNetns()).toBe(home);
  } finally {
    kernel.close();
    vde.close();
  }
});

describe('sockets made by setns', () => {
  const [a, b] = useTestNetwork(2);

  test('are in the stack\'s namespace: reachable from another stack and from the stack\'s lo, not from the host', async () => {
    expect(a.stack.socketMode).toBe('setns');
    const server = a.stack.net.createServer((c) => { c.on('error', () => {}); c.end('from a'); });
    server.listen(7100, '0.0.0.0');
    await once(server, 'listening');
    try {
      const read = (s: net.Socket): Promise<string> => new Promise((resolve) => {
        let data = '';
        s.on('data', (d) => { data += d; });
        s.on('end', () => resolve(data));
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      const fromB = b.stack.net.connect(7100, a.ip4);
      await once(fromB, 'connect');
      expect([fromB.localAddress, fromB.remoteAddress]).toEqual([b.ip4, a.ip4]); // getsockname/getpeername
      expect(await read(fromB)).toBe('from a');
      expect(await read(a.stack.net.connect(7100, '127.0.0.1'))).toBe('from a');
      expect(await read(net.connect(7100, '127.0.0.1'))).toBe('ECONNREFUSED');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  test('leave the thread in its own namespace after every call, and host sockets still work', async () => {
    const home = threadNetns();
    for (let i = 0; i < 200; i++) {
      const fd = a.stack.socketFd(i % 2 ? 6 : 4, i % 3 ? 'tcp' : 'udp');
      expect(threadNetns()).toBe(home);
      fs.closeSync(fd);
    }
    // A failing socket() inside the stack's namespace also comes back (protocol 255 is no TCP).
    expect(() => a.stack.socketFd(4, 'tcp', 255)).toThrow(expect.objectContaining({ syscall: 'socket' }));
    expect(threadNetns()).toBe(home);
    const host = net.createServer((c) => c.end('host')).listen(0, '127.0.0.1');
    await once(host, 'listening');
    const c = net.connect((host.address() as net.AddressInfo).port, '127.0.0.1');
    const chunks: Buffer[] = [];
    c.on('data', (d) => chunks.push(d));
    await once(c, 'end');
    expect(Buffer.concat(chunks).toString()).toBe('host');
    await new Promise((r) => host.close(r));
  });

  test('a stack borrowed by a worker thread makes them there too, and the worker\'s descriptors go with it', async () => {
    const { Worker } = await import('node:worker_threads');
    const fds = openFds();
    const worker = new Worker(`
      const fs = require('node:fs');
      const { parentPort, workerData } = require('node:worker_threads');
      const { Stack } = require(${JSON.stringify(path.resolve(__dirname, '..', '..'))});
      const stack = new Stack({ share: workerData });
      const home = fs.readlinkSync('/proc/thread-self/ns/net');
      const server = stack.net.createServer((c) => { c.on('error', () => {}); c.end('from the worker'); });
      server.listen(7101, ${JSON.stringify(a.ip4)}, () => parentPort.postMessage({
        path: stack.socketMode, home, sameNs: fs.readlinkSync('/proc/thread-self/ns/net') === home,
      }));
      parentPort.on('message', () => server.close(() => { stack.close(); parentPort.postMessage('closed'); }));
    `, { eval: true, workerData: a.stack.share() });
    try {
      const [report] = await once<{ path: string; home: string; sameNs: boolean }>(worker, 'message');
      expect(report).toEqual({ path: 'setns', home: threadNetns(), sameNs: true });
      const s = b.stack.net.connect(7101, a.ip4);
      const chunks: Buffer[] = [];
      s.on('data', (d) => chunks.push(d));
      await once(s, 'end');
      expect(Buffer.concat(chunks).toString()).toBe('from the worker');
      worker.postMessage('close');
      await once(worker, 'message');
    } finally {
      await worker.terminate();
    }
    // The worker's copy of the namespace fd and its thread's own namespace fd are closed.
    expect(openFds()).toBe(fds);
    expect(a.stack.socketMode).toBe('setns'); // the owner's stack is untouched
  });
});

test('the same program, as root (setns) and without CAP_SYS_ADMIN (helper): same findings', async () => {
  const root = await runFixture([]);
  expect(root).toEqual({ capSysAdmin: true, paths: ['setns', 'setns'], ...expectedFindings });
  // setns(CLONE_NEWNET) needs CAP_SYS_ADMIN in the caller's own user namespace; dropping it from the
  // bounding set makes exec'd root lack it (as any non-root user does), while vdestack still works:
  // its helper gets every capability in the new user namespace it clones into.
  const capless = await runFixture(['setpriv', '--bounding-set=-sys_admin', '--inh-caps=-sys_admin']);
  expect(capless).toEqual({ capSysAdmin: false, paths: ['helper', 'helper'], ...expectedFindings });
}, 60000);
