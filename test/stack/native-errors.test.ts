// The addon's errors at the boundary: system errors leave C++ as errno + syscall + strerror's text
// and TypeScript writes Node's message from those fields; a stale errno never names a failure; the
// closed-stack state is a plain Error on both sides of the boundary.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getSystemErrorName } from 'node:util';
import { Stack } from '../../src';
import { addonPath, native } from '../../src/internal/native';

const thrown = (fn: () => unknown): NodeJS.ErrnoException & { errnoName?: string } => {
  try {
    fn();
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
  throw new Error('no error thrown');
};

test('a system error leaves the addon as errno, syscall and strerror\'s text; TypeScript writes the rest', () => {
  const raw = require(addonPath()) as typeof native; // the addon itself, without src/native.ts's shaping
  const rawStack = new raw.NativeStack('vdestack', [], 2000);
  const stack = new native.NativeStack('vdestack', []);
  try {
    const r = thrown(() => rawStack.ifNameToIndex('nope0'));
    expect(r.code).toBeUndefined();
    expect(r).toMatchObject({ errno: -os.constants.errno.ENODEV, syscall: 'ioth_if_nametoindex', errnoName: 'ENODEV' });
    expect(r.message).not.toMatch(/ioth_if_nametoindex|ENODEV/); // strerror's text alone
    const shaped = thrown(() => stack.ifNameToIndex('nope0'));
    expect(shaped).toMatchObject({ code: getSystemErrorName(r.errno!), errno: r.errno, syscall: r.syscall });
    expect(shaped.message).toBe(`ioth_if_nametoindex ENODEV: ${r.message}`);
    // Node's name where Node has one (ENOTSUP), the C library's otherwise.
    const unsupported = thrown(() => new native.NativeStack('nope', []));
    expect(unsupported).toMatchObject({ code: 'ENOTSUP', syscall: 'ioth_newstack' });
    expect(thrown(() => new raw.NativeStack('nope', [], 2000)).errnoName).toBe('EOPNOTSUPP');
  } finally {
    rawStack.close();
    stack.close();
  }
});

test('a descriptor that is not a socket is ENOTSOCK, whatever errno an earlier call left', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-notsock-'));
  const file = fs.openSync(path.join(dir, 'f'), 'w+');
  const stack = new Stack('vdestack', 'null://');
  const udp = stack.socketFd(4, 'udp');
  const closed = fs.openSync(path.join(dir, 'g'), 'w');
  fs.closeSync(closed);
  const v4 = Buffer.alloc(4);
  try {
    // Calls that leave errno set (ENODEV, EBADF) and one that polls (recvFrom with timeout 0), each
    // right before a call on the file. Before the fix, the file's error was the earlier errno.
    const before: [string, () => unknown][] = [
      ['ENODEV', () => stack.ifNameToIndex('nope0')],
      ['EBADF', () => native.bindSocket(closed, 4, v4, 0, false, false)],
      ['poll', () => expect(native.recvFrom(udp, 0)).toBeNull()],
    ];
    const onFile: [string, () => unknown][] = [
      ['bind', () => native.bindSocket(file, 4, v4, 0, false, false)],
      ['sendto', () => native.sendTo(file, Buffer.from('x'), 4, v4, 9, 0)],
      ['connect', () => native.connectSocket(file, 4, v4, 9, 0)],
      ['recvfrom', () => native.recvFrom(file, 0)],
      ['setsockopt', () => native.setSocketOption(file, 'broadcast', true)],
      ['ioctl', () => native.unsentBytes(file)],
    ];
    for (const [left, earlier] of before) {
      for (const [syscall, call] of onFile) {
        try {
          earlier();
        } catch (err) {
          expect((err as NodeJS.ErrnoException).code).toBe(left);
        }
        const e = thrown(call);
        expect({ after: left, code: e.code, syscall: e.syscall }).toEqual({ after: left, code: 'ENOTSOCK', syscall });
        expect(e.message).toMatch(new RegExp(`^${syscall} ENOTSOCK: `));
      }
    }
    // A closed descriptor is still EBADF (fstat's own errno), not ENOTSOCK.
    expect(thrown(() => native.sendTo(closed, Buffer.from('x'), 4, v4, 9, 0)).code).toBe('EBADF');
  } finally {
    fs.closeSync(udp);
    fs.closeSync(file);
    stack.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker\'s borrowed stack closed by its owner gives an Error (not a TypeError) with ERR_IOTH_STACK_CLOSED', async () => {
  const { Worker } = await import('node:worker_threads');
  const owner = new Stack('vdestack', 'null://');
  const share = owner.share();
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const { Stack } = require(${JSON.stringify(path.resolve(__dirname, '..', '..'))});
    const stack = new Stack({ share: workerData });
    const shape = (fn) => {
      try { fn(); return null; } catch (e) {
        return { name: e.name, code: e.code, message: e.message, plain: Object.getPrototypeOf(e) === Error.prototype };
      }
    };
    parentPort.once('message', () => {
      parentPort.postMessage({
        call: shape(() => stack.links()),
        socket: shape(() => stack.socketFd(4, 'udp')),
        borrowAgain: shape(() => new Stack({ share: workerData })),
        // close() stays idempotent for a borrower whose owner closed first.
        close: shape(() => { stack.close(); stack.close(); }),
        closed: stack.closed,
      });
    });
    parentPort.postMessage('ready');
  `, { eval: true, workerData: share });
  try {
    await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    owner.close();
    worker.postMessage('go');
    type Shape = { name: string; code: string; message: string; plain: boolean };
    type Seen = Record<string, Shape> & { close: Shape | null; closed: boolean };
    const { close, closed, ...seen } = await new Promise<Seen>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect({ close, closed }).toEqual({ close: null, closed: true });
    for (const e of Object.values(seen)) {
      expect(e).toMatchObject({ name: 'Error', code: 'ERR_IOTH_STACK_CLOSED', plain: true });
    }
    expect(seen.call.message).toBe('the stack was closed by the thread that owns it');
    expect(seen.borrowAgain.message).toBe(`no open stack has share id ${share.id}`);
    // The same state raised in TypeScript: the same type.
    const local = thrown(() => owner.links());
    expect(Object.getPrototypeOf(local).constructor.name).toBe('Error');
    expect(local.code).toBe('ERR_IOTH_STACK_CLOSED');
  } finally {
    await worker.terminate();
  }
});
