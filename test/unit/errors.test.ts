// The error builders (src/internal/errors.ts, src/internal/validators.ts, src/dns/errors.ts), each
// compared with the error Node itself throws for the same mistake in this run: a Node API is called
// with the same bad value and its message, name and code are the reference. (The "Received ..."
// part for many more kinds of value: node-reference.test.ts.)
import * as dns from 'node:dns';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getSystemErrorMap, getSystemErrorName } from 'node:util';
import { dnsError } from '../../src/dns/errors';
import { invalidArgType, invalidIpAddress, missingArgs, stackClosed, withContext } from '../../src/internal/errors';
import { validatePort } from '../../src/internal/validators';
import { thrown } from '../helpers/thrown';


class Custom {}
const values: Array<[string, unknown]> = [
  ['a number', 5], ['NaN', NaN], ['a boolean', false], ['a bigint', 7n], ['a symbol', Symbol('s')], ['null', null],
  ['undefined', undefined], ['a plain object', {}], ['an array', [1]], ['a class instance', new Custom()],
  ['a named function', function named() { return 0; }],
];

test.each(values)('ERR_INVALID_ARG_TYPE for %s reads as Node\'s own (path.basename)', (_, value) => {
  const theirs = thrown(() => path.basename(value as string));
  expect(theirs).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  expect(thrown(() => { throw invalidArgType('path', 'of type string', value); })).toEqual(theirs);
});

test('ERR_MISSING_ARGS lists two or three names as node:dns does', () => {
  const three = thrown(() => (dns.lookupService as unknown as () => void)());
  const two = thrown(() => (dns.promises.lookupService as unknown as () => void)());
  expect(three).toMatchObject({ code: 'ERR_MISSING_ARGS' });
  expect(thrown(() => { throw missingArgs('address', 'port', 'callback'); })).toEqual(three);
  expect(thrown(() => { throw missingArgs('address', 'port'); })).toEqual(two);
});

test('ERR_INVALID_IP_ADDRESS as setServers() says it', () => {
  for (const bad of ['1.2.3', '[::1', 'example.com']) {
    const theirs = thrown(() => new dns.Resolver().setServers([bad]));
    expect(theirs).toMatchObject({ code: 'ERR_INVALID_IP_ADDRESS' });
    expect(thrown(() => { throw invalidIpAddress(bad); })).toEqual(theirs);
  }
});

test.each([[70000], [-1], [1.5], ['abc'], [''], [' '], [{}], [null], [true], [2 ** 40]])('node:dns\'s port check for %p', (port) => {
  const theirs = thrown(() => dns.lookupService('127.0.0.1', port as number, () => undefined));
  expect(theirs).toMatchObject({ code: 'ERR_SOCKET_BAD_PORT' });
  expect(thrown(() => validatePort(port))).toEqual(theirs);
});

test('ports node:dns takes are taken, numeric strings as numbers', () => {
  for (const [port, n] of [[0, 0], [65535, 65535], ['80', 80], [' 443 ', 443], ['0x50', 80]] as const) {
    expect(validatePort(port)).toBe(n);
  }
});

test('DNS failures read as Node\'s DNSException: "syscall code hostname", errno for getaddrinfo', () => {
  const e = dnsError('ENOTFOUND', 'getaddrinfo', 'nowhere.test');
  expect(e).toMatchObject({ message: 'getaddrinfo ENOTFOUND nowhere.test', code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'nowhere.test' });
  // Node reports ENOTFOUND with EAI_NONAME's number: whatever this libuv calls it.
  expect(getSystemErrorName(e.errno!)).toBe('EAI_NONAME');
  expect(getSystemErrorName(dnsError('EAI_AGAIN', 'getaddrinfo', 'x').errno!)).toBe('EAI_AGAIN');
  expect(dnsError('ETIMEOUT', 'queryA', 'x')).toMatchObject({ message: 'queryA ETIMEOUT x', errno: undefined });
  expect(dnsError('ECONNREFUSED', 'queryA', 'x', 'why').message).toBe('queryA ECONNREFUSED x (why)');
});

describe('withContext: a failed native call made actionable', () => {
  // The addon's error shape: strerror's text as the message, a negative errno and the syscall.
  const strerror = (errno: number) => getSystemErrorMap().get(errno)![1];
  const native = (errno: number, syscall: string) => Object.assign(new Error(strerror(errno)), { errno, syscall });

  test('the code is Node\'s name for the errno, as fs names it', () => {
    const fromFs = thrown(() => fs.openSync(path.join(__dirname, 'no such file'), 'r'));
    expect(fromFs).toMatchObject({ code: 'ENOENT' });
    const e = withContext(native(-2, 'ioth_newstack'), 'creating a stack', { vnl: 'vde:///x' }, 'is the switch running?');
    expect(e).toMatchObject({ code: (fromFs as { code: string }).code, errno: -2, syscall: 'ioth_newstack', vnl: 'vde:///x' });
    expect(e.message).toBe(`ioth_newstack ENOENT: ${strerror(-2)} (creating a stack): is the switch running?`);
    expect(e).toBeInstanceOf(Error);
  });

  test('the errno Linux calls EOPNOTSUPP gets the name Node gives it', () => {
    const errno = -95;
    expect(withContext(native(errno, 'ioth_linkadd'), 'adding a link').code).toBe(getSystemErrorName(errno));
  });

  test('argument errors pass through unchanged', () => {
    const argError = Object.assign(new TypeError('bad'), { code: 'ERR_INVALID_ARG_TYPE' });
    expect(withContext(argError, 'anything')).toBe(argError);
    const noSyscall = Object.assign(new Error('x'), { errno: -2 });
    expect(withContext(noSyscall, 'anything')).toBe(noSyscall);
  });
});

test('a closed stack: ERR_IOTH_STACK_CLOSED, saying what to do', () => {
  expect(stackClosed('open a socket')).toMatchObject({
    code: 'ERR_IOTH_STACK_CLOSED', message: 'Cannot open a socket: the stack is closed (create a new Stack)',
  });
});
