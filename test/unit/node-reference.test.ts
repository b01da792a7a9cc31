// Messages that mirror Node's, compared with what the running Node itself says in the same run, so
// the suite checks them on whichever Node runs it (scripts/node-version.sh runs it on 22, 24, 26).
// Node's side is always a different public API from the one src/internal/node-reference.ts asks.
import * as nodeDns from 'node:dns';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { invalidArgType, invalidArgValue, outOfRange } from '../../src/internal/errors';
import { createDns } from '../../src/dns';
import { nodeDefaultOrderError } from '../../src/internal/node-reference';
import { validatePort } from '../../src/internal/validators';
import { thrown } from '../helpers/thrown';

const received = (message: string) => message.slice(message.indexOf('. Received ') + 2);

class Custom {}
const values: Array<[string, unknown]> = [
  ['null', null], ['undefined', undefined], ['a number', 5], ['NaN', NaN], ['a bigint', 2n], ['a boolean', true],
  ['a symbol', Symbol('s')], ['a short string', 'abc'], ['a string of 28', 'a'.repeat(26)], ['a long string', 'a'.repeat(60)],
  ['a string saying ". Received "', 'x. Received y'], ['a plain object', {}], ['an array', [1, 2]],
  ['a null-prototype object', Object.create(null)], ['a class instance', new Custom()], ['a Map', new Map()],
  ['a named function', function named() { return 1; }], ['an anonymous function', (() => () => 1)()], ['a class', Custom],
];

test.each(values)('ERR_INVALID_ARG_TYPE describes %s as Node does', (_, value) => {
  // promisify() wants a function and path.join() strings: one of them refuses any value.
  const theirs = thrown(() => (typeof value === 'function' ? path.join(value as never) : promisify(value as never)));
  expect(theirs).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  expect(received(invalidArgType('x', 'of type y', value).message)).toBe(received((theirs as { message: string }).message));
});

test('a dotted name is a "property", in both argument errors, as Node says it', () => {
  const type = thrown(() => net.connect({ port: 80, lookup: 1 } as never));
  expect(thrown(() => { throw invalidArgType('options.lookup', 'of type function', 1); })).toEqual(type);
  const value = thrown(() => nodeDns.lookup('x', { family: 'x' } as never, () => {}));
  expect(value).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/^The property 'options\.family' /) });
  expect(invalidArgValue('options.family', 'x', 'must be one of: 0, 4, 6').message.slice(0, 36))
    .toBe((value as { message: string }).message.slice(0, 36));
});

test('an object whose constructor is no object still gets a message (Node 20 and 22 crash on it)', () => {
  const error = invalidArgType('x', 'of type y', { constructor: 'x' });
  expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/^The "x" argument must be of type y\. Received /) });
});

test.each([
  ['a string of 200', 'a'.repeat(200)], ['a long array', Array(60).fill(1234)], ['a nested object', { a: { b: { c: { d: 1 } } } }],
  ['a null-prototype object', Object.create(null)], ['a string', 'ipv4'],
])('ERR_INVALID_ARG_VALUE shows %s as Node does', (_, value) => {
  const theirs = thrown(() => nodeDns.lookup('127.0.0.1', { family: value } as never, () => undefined));
  expect(theirs).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  expect(received(invalidArgValue('x', value, 'is bad').message)).toBe(received((theirs as { message: string }).message));
});

test.each([[-5], [2 ** 31], [2 ** 33], [5e9], [-1e12], [1e21], [1.5], [-Infinity]])('ERR_OUT_OF_RANGE shows %d as Node does', (value) => {
  const theirs = thrown(() => new nodeDns.Resolver({ tries: value }));
  expect(theirs).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  expect(received(outOfRange('x', 'y', value).message)).toBe(received((theirs as { message: string }).message));
});

test.each([[70000], [-1], [1.5], ['abc'], ['x. Received y'], ['a'.repeat(60)], [{}], [[80]]])('ERR_SOCKET_BAD_PORT for %p as node:net says it', (port) => {
  // Bad ports only: net.connect throws before it opens anything.
  const theirs = thrown(() => net.connect({ port } as never));
  expect(theirs).toMatchObject({ name: expect.any(String) });
  const ours = thrown(() => validatePort(port));
  if ((theirs as { code?: string }).code === 'ERR_SOCKET_BAD_PORT') expect(ours).toEqual(theirs);
  else expect(ours).toMatchObject({ code: 'ERR_SOCKET_BAD_PORT' }); // node:net checks the type first ({}, [80])
});

test("asking node:dns for setDefaultResultOrder's error leaves its order alone", () => {
  const before = nodeDns.getDefaultResultOrder();
  expect(nodeDefaultOrderError('x')).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
  expect(nodeDns.getDefaultResultOrder()).toBe(before);
});

describe('lookup() of an empty host name does what node:dns does (a warning up to Node 24, an error in 26)', () => {
  // A stack's dns without any server: an empty name must never get as far as asking one.
  const dns = createDns({ udpSocket: () => { throw new Error('no resolver may be asked'); }, tcpConnect: () => { throw new Error('no resolver may be asked'); } } as never);
  const settle = (p: Promise<unknown>) =>
    p.then((value) => ({ value }), (e: NodeJS.ErrnoException) => ({ code: e.code, message: e.message }));
  const viaCallback = (lookup: (...a: unknown[]) => void, ...args: unknown[]) => new Promise((resolve) => {
    try {
      lookup(...args, (err: NodeJS.ErrnoException | null, ...result: unknown[]) =>
        resolve(err ? { code: err.code } : { result }));
    } catch (e) {
      resolve({ thrown: (e as NodeJS.ErrnoException).code, message: (e as Error).message });
    }
  });
  const cases: Array<[string, unknown, object | undefined]> = [
    ["''", '', undefined], ['null', null, undefined], ['undefined', undefined, undefined], ['0', 0, undefined],
    ["'' with all", '', { all: true }], ["'' with family 6", '', { family: 6 }],
  ];
  test.each(cases)('%s', async (_, hostname, options) => {
    const args = options ? [hostname, options] : [hostname];
    expect(await viaCallback(dns.lookup as never, ...args))
      .toEqual(await viaCallback(nodeDns.lookup as never, ...args));
    expect(await settle((dns.promises.lookup as (...a: unknown[]) => Promise<unknown>)(...args)))
      .toEqual(await settle((nodeDns.promises.lookup as (...a: unknown[]) => Promise<unknown>)(...args)));
  });
});
