// The receive path of udp6 sockets on a stack (src/sockets/udp-receive.ts, addon/udp_receiver.cc),
// past what zones.test.ts compares with native Node: every datagram the kernel delivered reaches
// the app, in order and intact (a burst of several readinesses' batches of 32); close() inside a
// 'message' listener ends the deliveries; ticks queued by a listener run before the next datagram,
// as after each of Node's own callbacks; receiving resumes normally after close of another socket.
import type * as dgram from 'node:dgram';
import { Stack } from '../../src';

let stack: Stack;
beforeAll(() => {
  stack = new Stack('vdestack', 'null://');
  stack.linkSetUpDown('lo', true);
});
afterAll(() => stack.close({ linger: 0 }));

function bound(type: 'udp6', address = '::1'): Promise<dgram.Socket> {
  const s = stack.dgram.createSocket({ type, recvBufferSize: 4 * 1024 * 1024 });
  return new Promise((resolve) => s.bind(0, address, () => resolve(s)));
}

test('a burst of 200 datagrams: every one, in order, intact', async () => {
  const r = await bound('udp6');
  const s = await bound('udp6');
  const got: number[] = [];
  const all = new Promise<void>((resolve) => {
    r.on('message', (buf, rinfo) => {
      expect(rinfo).toEqual({ address: '::1', family: 'IPv6', port: s.address().port, size: 64 });
      expect(buf.subarray(4).every((b) => b === (buf.readUInt32BE(0) & 0xff))).toBe(true);
      got.push(buf.readUInt32BE(0));
      if (got.length === 200) resolve();
    });
  });
  // All queued in the kernel before the receiver's first turn: about 200 kB as the kernel counts
  // them (a buffer each), within the receive buffer however rmem_max caps it.
  expect(r.getRecvBufferSize()).toBeGreaterThan(300 * 1024);
  for (let i = 0; i < 200; i++) {
    const buf = Buffer.alloc(64, i & 0xff);
    buf.writeUInt32BE(i, 0);
    s.send(buf, r.address().port, '::1');
  }
  await all;
  expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
  r.close();
  s.close();
});

test("close() in a 'message' listener: no datagram after it; ticks run between datagrams", async () => {
  const r = await bound('udp6');
  const s = await bound('udp6');
  const seen: string[] = [];
  const closed = new Promise<void>((resolve) => r.on('close', resolve));
  r.on('message', (buf) => {
    seen.push(`message ${buf}`);
    process.nextTick(() => seen.push(`tick ${buf}`));
    if (String(buf) === '3') r.close();
  });
  await new Promise<void>((resolve) => {
    for (let i = 1; i <= 6; i++) s.send(String(i), r.address().port, '::1', i === 6 ? () => resolve() : undefined);
  });
  await closed;
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(seen).toEqual(['message 1', 'tick 1', 'message 2', 'tick 2', 'message 3', 'tick 3']);
  // Another socket still receives (the poller is shared).
  const t = await bound('udp6');
  const back = new Promise<string>((resolve) => t.once('message', (buf) => resolve(String(buf))));
  s.send('again', t.address().port, '::1');
  expect(await back).toBe('again');
  s.close();
  t.close();
});
