// Property-based tests of the Stack API with hostile input (fast-check; FC_SEED and FC_RUNS choose
// the seed and the number of inputs): every public method and the constructor either succeed or
// throw an Error with a Node-style code whose message names the argument; configuration strings
// fail with ERR_IOTH_CONFIG (or an errno code) and a refused string leaves the stack as it was.
import * as fs from 'node:fs';
import * as fc from 'fast-check';
import { Stack } from '../../src';
import { arg, check, checkError, hostile, report, safeVnl, show, Tally } from '../helpers/fuzz';
import { childrenOf, openFds } from '../helpers/procs';

afterAll(() => report('fuzz-api'));

// Each public method and the names of its parameters (what an argument error must name).
const METHODS: Record<string, string[]> = {
  ifNameToIndex: ['name'], ifIndexToName: ['index'], ifNameIndex: [], links: [], linkSetUpDown: ['ifindex', 'up'],
  linkSetAddr: ['ifindex', 'mac'], linkGetAddr: ['ifindex'], linkSetMtu: ['ifindex', 'mtu'], linkGetMtu: ['ifindex'],
  ipAddrAdd: ['addr', 'prefixLen', 'ifindex', 'options'], addresses: [], ipAddrDel: ['addr', 'prefixLen', 'ifindex'],
  ipRouteAdd: ['gateway', 'dst', 'prefixLen', 'ifindex', 'route'], ipRouteDel: ['gateway', 'dst', 'prefixLen', 'ifindex', 'route'],
  routes: [], ipLinkAdd: ['ifindex', 'type', 'data', 'ifname'], ipLinkDel: ['ifindex'], interfaces: [],
  socketFd: ['family', 'type', 'protocol'], resolveInterface: ['ifindex'], share: [], config: ['config'],
  httpAgent: ['options'], httpsAgent: ['options'],
};

test('every Stack method, with hostile arguments, succeeds or throws a coded error naming the argument', () => {
  const stack = new Stack('vdestack', 'null://');
  const fds = openFds();
  const tally = new Tally();
  try {
    const call = fc.constantFrom(...Object.keys(METHODS)).chain((m) => fc.tuple(
      fc.constant(m),
      fc.oneof(
        { arbitrary: fc.array(arg, { minLength: METHODS[m].length, maxLength: METHODS[m].length }), weight: 5 },
        { arbitrary: fc.array(arg, { maxLength: METHODS[m].length + 2 }), weight: 1 },
      ),
    ));
    check('Stack methods', 4000, fc.property(call, ([method, given]) => {
      let args = given;
      const what = `stack.${method}(${args.map(show).join(', ')})`;
      if (method.endsWith('Agent') && (typeof args[0] === 'string' || ArrayBuffer.isView(args[0])) && (args[0] as string).length > 4096) {
        args = [{}]; // http.Agent itself spreads its options: megabytes of string or buffer take seconds
      }
      let value: unknown;
      try {
        value = (stack as unknown as Record<string, (...a: unknown[]) => unknown>)[method](...args);
      } catch (err) {
        tally.add(checkError(err, what, METHODS[method]));
        return;
      }
      tally.add(`${method} ok`);
      if (method === 'socketFd') {
        if (!Number.isInteger(value) || (value as number) < 0) throw new Error(`${what} returned ${show(value)}`);
        fs.closeSync(value as number);
      }
      if (method === 'httpAgent' || method === 'httpsAgent') (value as { destroy(): void }).destroy();
    }));
    console.log(`Stack methods: ${JSON.stringify(tally.counts)}`);
    expect(stack.closed).toBe(false);
    expect(openFds()).toBe(fds);
    // The run got past the checks as well as into them.
    expect(Object.keys(tally.counts).filter((k) => k.endsWith(' ok')).length).toBeGreaterThanOrEqual(12);
    expect(Object.keys(tally.counts).filter((k) => /^E[A-Z]+$/.test(k)).length).toBeGreaterThanOrEqual(3);
  } finally {
    stack.close();
  }
});

test('new Stack(...) with hostile arguments: a stack, or a coded error; nothing left behind', () => {
  const children = childrenOf(process.pid).length;
  const fds = openFds();
  const tally = new Tally();
  const vnl = fc.oneof(hostile(), fc.constantFrom('null://', 'vde:///nonexistent/x', 'foo://bar', 'slirp:///nosuch=1'),
    fc.array(fc.oneof(hostile(), fc.constant('null://')), { maxLength: 3 }));
  const args = fc.oneof(
    fc.tuple(fc.oneof(hostile(), fc.constantFrom('vdestack', 'kernel', 'vdestack,', 'nope', 'vdestack,x=1')), vnl),
    fc.tuple(fc.record({ plugin: hostile(), pluginOptions: hostile(), vnl, share: hostile() }, { requiredKeys: [] })),
    fc.array(hostile(), { maxLength: 3 }),
  );
  const safe = (v: unknown): unknown => {
    if (Array.isArray(v) && v.length <= 64) {
      try {
        return Array.from(v, safeVnl);
      } catch {
        return v;
      }
    }
    return safeVnl(v);
  };
  check('new Stack', 150, fc.property(args, (given) => {
    const a = [...given] as unknown[];
    if (a.length === 2) a[1] = safe(a[1]);
    if (a.length === 1 && a[0] && typeof a[0] === 'object' && 'vnl' in (a[0] as object)) {
      a[0] = { ...(a[0] as object), vnl: safe((a[0] as { vnl: unknown }).vnl) };
    }
    const what = `new Stack(${a.map(show).join(', ')})`;
    let stack: Stack;
    try {
      stack = new (Stack as unknown as new (...x: unknown[]) => Stack)(...a);
    } catch (err) {
      tally.add(checkError(err, what, ['plugin', 'vnl', 'options', 'pluginOptions', 'share']));
      return;
    }
    tally.add('ok');
    stack.close();
  }));
  console.log(`new Stack: ${JSON.stringify(tally.counts)}`);
  expect(tally.counts.ok).toBeGreaterThan(0);
  expect(childrenOf(process.pid)).toHaveLength(children);
  expect(openFds()).toBe(fds);
});

describe('stack.config(str)', () => {
  // Items of the configuration language, well and badly formed, and noise between them.
  const value = fc.oneof(fc.constantFrom('10.0.0.1', '10.0.0.1/24', '10.0.0.1/33', '10.0.0.1/99', 'fd00::1/64', 'fd00::1/200',
    'fe80::1%vde0', '10.0.0.256', '02:00:00:00:00:01', 'zz:00:00:00:00:01', '01:00:5e:00:00:01', '1500', '5', '70000', '0',
    '99999999999', 'lo', 'vde0', 'nosuch0', 'a'.repeat(20), 'example.test', '-bad-.test', `${'a'.repeat(70)}.test`, '', '2',
    '10.0.0.254', '192.168.9.9', '::', '10.0.0.0'), fc.string({ maxLength: 12 }), hostile().map((v) => {
    try {
      return String(v);
    } catch {
      return 'hostile';
    }
  }));
  const key = fc.oneof({ arbitrary: fc.constantFrom('iface', 'ifindex', 'ip', 'gw', 'dns', 'domain', 'mac', 'macaddr', 'mtu'), weight: 6 },
    { arbitrary: fc.stringMatching(/^[a-z]{1,6}$/).filter((k) => !/^(dhcp|rd|slaac|auto|stack|vnl)/.test(k)), weight: 1 });
  const item = fc.oneof(
    { arbitrary: fc.tuple(key, value).map(([k, v]) => `${k}=${v}`), weight: 6 },
    { arbitrary: fc.constantFrom('eth', 'eth=1', 'ip', '=', "'", '"', '\\', "ip='10.0.0.9'", 'ip="10.0.0.9/24', 'ip=10.0.0.9\\', 'nodad', 'nodad=1'), weight: 2 },
    { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
  );
  const config = fc.oneof(
    { arbitrary: fc.tuple(fc.array(item, { maxLength: 5 }), fc.constantFrom(',', ';', ' ', '\t', '\n', ', ')).map(([items, sep]) => items.join(sep)), weight: 8 },
    { arbitrary: hostile(), weight: 1 },
  );

  test('never a crash; refused with ERR_IOTH_CONFIG or an errno code; a refused item changes nothing', () => {
    const stack = new Stack('vdestack', 'null://');
    const tally = new Tally();
    const partial: string[] = [];
    const snapshot = () => JSON.stringify([
      stack.links(), stack.interfaces(), stack.routes(), stack.dns.getServers(), stack.dns.getSearch(),
    ]);
    try {
      check('stack.config', 700, fc.property(config, (str) => {
        const before = snapshot();
        try {
          stack.config(str as string);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          const code = typeof str === 'string' ? e.code : 'not a string';
          if (typeof str !== 'string') {
            if (e.code !== 'ERR_INVALID_ARG_TYPE' || !(e instanceof TypeError)) {
              throw new Error(`config(${show(str)}): ${e.code} ${e.message}`, { cause: err });
            }
          } else if (e.code !== 'ERR_IOTH_CONFIG' && !/^E[A-Z0-9]+$/.test(e.code ?? '')) {
            throw new Error(`config(${show(str)}) threw ${e.code}, not ERR_IOTH_CONFIG or an errno code: ${e.message}`, { cause: err });
          }
          if (e.code === 'ERR_IOTH_CONFIG' && !/invalid configuration item '/.test(e.message)) {
            throw new Error(`config(${show(str)}): the message does not quote the item: ${e.message}`, { cause: err });
          }
          const after = snapshot();
          if (e.code === 'ERR_IOTH_CONFIG' && after !== before) {
            throw new Error(`config(${show(str)}) was refused (${e.message}) but changed the stack`, { cause: err });
          }
          if (after !== before) partial.push(`${show(str)}: ${e.code}`);
          tally.add(code ?? 'no code');
          return;
        }
        tally.add('ok');
      }));
    } finally {
      stack.close();
    }
    console.log(`stack.config: ${JSON.stringify(tally.counts)}; failed with a system error after applying part: ${partial.length} (${partial.slice(0, 5).join('; ')})`);
    expect(tally.counts.ok).toBeGreaterThan(0);
    expect(tally.counts.ERR_IOTH_CONFIG).toBeGreaterThan(0);
  });
});
