// Bad input, table by table: each gets its documented error (Node-style code and a message that
// names the offending value), and none crashes the process. The native entry points are also
// called directly with wrong arguments.
import { Stack } from '../../src';
import { native } from '../../src/internal/native';

type Case = [string, () => unknown, string, RegExp];

describe('creating a stack', () => {
  const cases: Case[] = [
    ['unknown plugin', () => new Stack('nope'), 'ENOTSUP', /no libioth plugin "nope" in .*installed: .*vdestack/],
    ['plugin name with a path', () => new Stack('../../tmp/evil'), 'ERR_INVALID_ARG_VALUE', /plugin name/],
    ['empty plugin name', () => new Stack(''), 'ERR_INVALID_ARG_VALUE', /non-empty/],
    ['plugin not a string', () => new Stack(42 as unknown as string), 'ERR_INVALID_ARG_TYPE', /"plugin" argument .*Received type number/],
    ['unknown VNL module', () => new Stack('vdestack', 'foo://bar'), 'EPROTONOSUPPORT', /VNL "foo:\/\/bar".*unknown VNL module/],
    ['switch that does not exist', () => new Stack('vdestack', 'vde:///nonexistent/switch'), 'ENOENT', /vde:\/\/\/nonexistent\/switch/],
    ['bad VNL option', () => new Stack('vdestack', 'slirp:///nosuchoption=1'), 'EINVAL', /slirp:\/\/\/nosuchoption=1/],
    ['empty VNL', () => new Stack('vdestack', ''), 'ERR_INVALID_ARG_VALUE', /vnl/],
    ['VNL with NUL', () => new Stack('vdestack', 'null://\0x'), 'ERR_INVALID_ARG_VALUE', /NUL/],
    ['VNL list with a number', () => new Stack('vdestack', ['null://', 5 as unknown as string]), 'ERR_INVALID_ARG_TYPE', /vnl\[1\]/],
    ['VNL of a wrong type', () => new Stack('vdestack', {} as unknown as string), 'ERR_INVALID_ARG_TYPE', /"vnl"/],
    ['options and a second argument', () => new Stack({ plugin: 'vdestack' }, 'null://'), 'ERR_INVALID_ARG_VALUE', /inside the options/],
    ['options twice', () => new Stack({ plugin: 'vdestack,x', pluginOptions: 'y' }), 'ERR_INVALID_ARG_VALUE', /pluginOptions/],
  ];
  test.each(cases)('%s', (_name, fn, code, message) => {
    expect(fn).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });

  test('system errors carry errno, syscall, plugin and VNL', () => {
    try {
      new Stack('vdestack', 'vde:///nonexistent/switch');
      throw new Error('no error');
    } catch (err) {
      expect(err).toMatchObject({ code: 'ENOENT', errno: -2, syscall: 'ioth_newstack', plugin: 'vdestack', vnl: ['vde:///nonexistent/switch'] });
    }
  });
});

describe('configuring a stack', () => {
  let stack: Stack;
  beforeAll(() => {
    stack = new Stack('vdestack', 'null://');
    stack.linkSetUpDown('vde0', true);
    stack.ipAddrAdd('10.0.0.1', 24, 'vde0');
  });
  afterAll(() => stack.close());

  const cases: Case[] = [
    ['address out of range', () => stack.ipAddrAdd('10.0.0.256', 24, 2), 'ERR_INVALID_ARG_VALUE', /'addr'.*'10\.0\.0\.256'/],
    ['address with a zone', () => stack.ipAddrAdd('fe80::1%vde0', 64, 2), 'ERR_INVALID_ARG_VALUE', /zone/],
    ['address not a string', () => stack.ipAddrAdd(167772161 as unknown as string, 24, 2), 'ERR_INVALID_ARG_TYPE', /"addr"/],
    ['IPv4 prefix 33', () => stack.ipAddrAdd('10.0.0.2', 33, 2), 'ERR_OUT_OF_RANGE', /"prefixLen".*0 to 32.*33/],
    ['IPv6 prefix 129', () => stack.ipAddrAdd('fd00::1', 129, 2), 'ERR_OUT_OF_RANGE', /0 to 128/],
    ['prefix as a string', () => stack.ipAddrAdd('10.0.0.2', '24' as unknown as number, 2), 'ERR_INVALID_ARG_TYPE', /"prefixLen"/],
    ['fractional prefix', () => stack.ipAddrAdd('10.0.0.2', 24.5, 2), 'ERR_OUT_OF_RANGE', /24\.5/],
    ['unknown interface name', () => stack.ipAddrAdd('10.0.0.2', 24, 'nosuch0'), 'ENODEV', /"nosuch0"/],
    ['unknown interface index', () => stack.ipAddrAdd('10.0.0.2', 24, 99), 'ENODEV', /interface 99/],
    ['interface index 0', () => stack.ipAddrAdd('10.0.0.2', 24, 0), 'ERR_OUT_OF_RANGE', /"ifindex"/],
    ['interface of a wrong type', () => stack.ipAddrAdd('10.0.0.2', 24, {} as unknown as number), 'ERR_INVALID_ARG_TYPE', /"ifindex"/],
    ['address added twice', () => stack.ipAddrAdd('10.0.0.1', 24, 'vde0'), 'EEXIST', /10\.0\.0\.1\/24/],
    ['address options not an object', () => stack.ipAddrAdd('fd00::2', 64, 'vde0', 'nodad' as never), 'ERR_INVALID_ARG_TYPE', /"options" argument must be of type object\. Received type string \('nodad'\)/],
    ['address options null', () => stack.ipAddrAdd('fd00::2', 64, 'vde0', null as never), 'ERR_INVALID_ARG_TYPE', /"options".*Received null/],
    ['nodad not a boolean', () => stack.ipAddrAdd('fd00::2', 64, 'vde0', { nodad: 1 as never }), 'ERR_INVALID_ARG_TYPE', /"options\.nodad" property must be of type boolean\. Received type number \(1\)/],
    ['nodad as a string', () => stack.ipAddrAdd('fd00::2', 64, 'vde0', { nodad: 'true' as never }), 'ERR_INVALID_ARG_TYPE', /"options\.nodad".*'true'/],
    ['nodad address added twice', () => stack.ipAddrAdd('10.0.0.1', 24, 'vde0', { nodad: true }), 'EEXIST', /10\.0\.0\.1\/24 \(nodad\)/],
    ['removing an absent address', () => stack.ipAddrDel('10.0.0.9', 24, 'vde0'), 'EADDRNOTAVAIL', /10\.0\.0\.9/],
    ['MAC too short', () => stack.linkSetAddr(2, '02:00:00:00:00'), 'ERR_INVALID_ARG_VALUE', /'mac'/],
    ['MAC not hex', () => stack.linkSetAddr(2, 'zz:00:00:00:00:01'), 'ERR_INVALID_ARG_VALUE', /zz:00/],
    ['MAC of 5 bytes', () => stack.linkSetAddr(2, new Uint8Array(5)), 'ERR_INVALID_ARG_VALUE', /6 bytes/],
    ['multicast MAC', () => stack.linkSetAddr(2, '01:00:5e:00:00:01'), 'EADDRNOTAVAIL', /01:00:5e:00:00:01/],
    ['MTU too small', () => stack.linkSetMtu(2, 10), 'ERR_OUT_OF_RANGE', /"mtu"/],
    ['MTU not an integer', () => stack.linkSetMtu(2, 1500.5), 'ERR_OUT_OF_RANGE', /1500\.5/],
    ['up as a string', () => stack.linkSetUpDown(2, 'yes' as unknown as boolean), 'ERR_INVALID_ARG_TYPE', /"up"/],
    ['route families differ', () => stack.ipRouteAdd('10.0.0.254', 'fd00::', 64), 'ERR_INVALID_ARG_VALUE', /IPv4 but dst/],
    ['on-link route without interface', () => stack.ipRouteAdd(null, '10.9.0.0', 16), 'ERR_INVALID_ARG_VALUE', /'ifindex'/],
    ['route with no address', () => stack.ipRouteAdd(null), 'ERR_INVALID_ARG_VALUE', /'gateway'/],
    ['default route with a prefix', () => stack.ipRouteAdd('10.0.0.254', null, 8), 'ERR_INVALID_ARG_VALUE', /'prefixLen'/],
    ['contradicting prefixes', () => stack.ipRouteAdd('10.0.0.254', '10.8.0.0/16', 24), 'ERR_INVALID_ARG_VALUE', /contradicts/],
    ['unreachable gateway', () => stack.ipRouteAdd('192.168.99.1'), 'ENETUNREACH', /default via 192\.168\.99\.1/],
    ['removing an absent route', () => stack.ipRouteDel('10.0.0.254', '10.5.0.0', 16), 'ESRCH', /10\.5\.0\.0\/16/],
    ['unknown link type', () => stack.ipLinkAdd(0, 'nosuchtype', null, 'x0'), 'ENOTSUP', /nosuchtype/],
    ['link index out of range', () => stack.ipLinkAdd(-2, 'bridge'), 'ERR_OUT_OF_RANGE', /"ifindex"/],
    ['deleting an absent link', () => stack.ipLinkDel('nosuch0'), 'ENODEV', /nosuch0/],
    ['interface name too long', () => stack.ifNameToIndex('a-very-long-interface-name'), 'ERR_INVALID_ARG_VALUE', /15 bytes/],
    ['no interface with that index', () => stack.ifIndexToName(99), 'ENXIO', /index 99/],
    ['socket family 5', () => stack.socketFd(5 as unknown as 4, 'tcp'), 'ERR_INVALID_ARG_VALUE', /'family'/],
    ['socket type sctp', () => stack.socketFd(4, 'sctp' as unknown as 'tcp'), 'ERR_INVALID_ARG_VALUE', /'type'/],
  ];
  test.each(cases)('%s', (_name, fn, code, message) => {
    expect(fn).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });

  test('argument errors are TypeError or RangeError, system errors are Error with errno', () => {
    expect(() => stack.ipAddrAdd('x', 24, 2)).toThrow(TypeError);
    expect(() => stack.ipAddrAdd('10.0.0.2', 99, 2)).toThrow(RangeError);
    expect(() => stack.ipAddrAdd('10.0.0.1', 24, 2)).toThrow(expect.objectContaining({ errno: -17, syscall: 'ioth_ipaddr_add' }));
  });
});

test('a closed stack refuses every call with ERR_IOTH_STACK_CLOSED', () => {
  const stack = new Stack('vdestack', 'null://');
  stack.close();
  expect(stack.closed).toBe(true);
  const calls: [string, () => unknown][] = [
    ['links', () => stack.links()], ['interfaces', () => stack.interfaces()], ['routes', () => stack.routes()],
    ['ifNameToIndex', () => stack.ifNameToIndex('lo')], ['linkSetUpDown', () => stack.linkSetUpDown(1, true)],
    ['linkSetAddr', () => stack.linkSetAddr(1, '02:00:00:00:00:01')], ['linkGetAddr', () => stack.linkGetAddr(1)],
    ['linkSetMtu', () => stack.linkSetMtu(1, 1500)], ['ipAddrAdd', () => stack.ipAddrAdd('10.0.0.1', 24, 1)],
    ['ipAddrAdd nodad', () => stack.ipAddrAdd('fd00::1', 64, 1, { nodad: true })], ['addresses', () => stack.addresses()],
    ['ipRouteAdd', () => stack.ipRouteAdd('10.0.0.1')], ['ipLinkDel', () => stack.ipLinkDel('lo')],
    ['socketFd', () => stack.socketFd(4, 'tcp')],
  ];
  for (const [, call] of calls) {
    expect(call).toThrow(expect.objectContaining({ code: 'ERR_IOTH_STACK_CLOSED', message: expect.stringMatching(/stack is closed/) }));
  }
  expect(() => stack.close()).not.toThrow(); // idempotent, so `using` after close() is fine
});

test('the native entry points reject wrong arguments with exceptions, never a crash', () => {
  const stack = new native.NativeStack('vdestack', ['null://']);
  const bad: unknown[] = [undefined, null, true, -1, 1.5, NaN, Infinity, 2 ** 32, '', 'x'.repeat(5000), '\0', {}, [], Buffer.alloc(0), Buffer.alloc(17), () => 0, Symbol('s'), 10n];
  const methods: [keyof typeof stack, number][] = [
    ['socket', 3], ['ifNameToIndex', 1], ['linkSetUpDown', 2], ['linkSetAddr', 2], ['linkGetAddr', 1],
    ['linkSetMtu', 2], ['ipAddr', 5], ['ipAddrAdd', 5], ['ipRoute', 6], ['ipLinkAdd', 4], ['ipLinkDel', 2],
  ];
  let thrown = 0;
  let calls = 0;
  try {
    for (const [method, arity] of methods) {
      const fn = (stack[method] as (...a: unknown[]) => unknown).bind(stack);
      expect(() => fn()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_COUNT' }));
      for (const value of bad) {
        for (let position = 0; position < arity; position++) {
          const args: unknown[] = Array(arity).fill(value);
          calls++;
          try {
            fn(...args);
          } catch (err) {
            thrown++;
            expect((err as NodeJS.ErrnoException).code).toMatch(/^(ERR_[A-Z_]+|E[A-Z]+)$/);
          }
        }
      }
    }
    expect(() => new native.NativeStack(5 as unknown as string, [])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => new native.NativeStack('vdestack', 'null://' as unknown as string[])).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => new native.NativeStack('vdestack', Array(65).fill('null://'))).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  } finally {
    stack.close();
  }
  expect(calls).toBeGreaterThan(500);
  expect(thrown).toBe(calls); // every one of these argument lists is wrong somewhere
});

test('the native ipAddrAdd sets no address flag but IFA_F_NODAD, and checks each argument in turn', () => {
  const stack = new native.NativeStack('vdestack', ['null://']);
  const addr = Buffer.from('fd000000000000000000000000000001', 'hex');
  const { IFA_F_NODAD } = native.constants;
  try {
    const cases: [unknown[], string, RegExp][] = [
      [[6, addr, 64, 2, 0x04], 'ERR_INVALID_ARG_VALUE', /^ipAddrAdd: argument 4 may hold only IFA_F_NODAD \(2\)$/],
      [[6, addr, 64, 2, IFA_F_NODAD | 0x80], 'ERR_INVALID_ARG_VALUE', /argument 4 may hold only IFA_F_NODAD/],
      [[6, addr, 64, 2, -1], 'ERR_OUT_OF_RANGE', /argument 4 must be an integer/],
      [[6, addr, 64, 2, true], 'ERR_INVALID_ARG_TYPE', /argument 4 must be a number/],
      [[6, addr, 64, 0, IFA_F_NODAD], 'ERR_OUT_OF_RANGE', /argument 3/],
      [[6, addr, 129, 2, IFA_F_NODAD], 'ERR_OUT_OF_RANGE', /argument 2 must be an integer from 0 to 128/],
      [[6, addr.subarray(0, 4), 64, 2, IFA_F_NODAD], 'ERR_OUT_OF_RANGE', /argument 1 must be 16 bytes long/],
      [[5, addr, 64, 2, IFA_F_NODAD], 'ERR_INVALID_ARG_VALUE', /argument 0 must be 4 or 6/],
      [[6, addr, 64, 99, IFA_F_NODAD], 'ENODEV', /^ioth_ipaddr_add ENODEV/],
    ];
    for (const [args, code, message] of cases) {
      expect(() => (stack.ipAddrAdd as (...a: unknown[]) => void)(...args))
        .toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
    }
    stack.ipAddrAdd(6, addr, 64, 2, IFA_F_NODAD);
    const added = stack.addresses().find((a) => a.address?.equals(addr));
    expect(added!.flags & IFA_F_NODAD).toBe(IFA_F_NODAD);
  } finally {
    stack.close();
  }
});
