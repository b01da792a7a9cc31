// The iothconf language without a stack: the tokenizer (libstropt's rules), the plan the parser
// makes of a string, and the table of bad strings, each refused by the parser itself, so that a
// stack is never touched by a bad one (test/stack/iothconf.test.ts checks the stack side).
import * as fc from 'fast-check';
import { KNOWN_KEYS, parseConfig, tokenize } from '../../src/config/parse';
import { BAD, BAD_PREFIX } from '../helpers/iothconf-bad';
import { fcParams } from '../helpers/fuzz';

test('tokenize splits and quotes as libstropt', () => {
  expect(tokenize("eth, ip=10.0.0.1/24;gw=10.0.0.254\tdns='10.0.0.53'\n domain=\"a b\" x=\\,y")).toEqual(
    ['eth', 'ip=10.0.0.1/24', 'gw=10.0.0.254', 'dns=10.0.0.53', 'domain=a b', 'x=,y']);
  expect(tokenize(' , ;')).toEqual([]);
  expect(tokenize("''")).toEqual(['']);
});

test('tokenize: quotes inside the other quotes, a backslash escapes in and out of quotes', () => {
  expect(tokenize(`a="it's",b='say "x"'`)).toEqual(["a=it's", 'b=say "x"']);
  expect(tokenize("a='x\\'y' b=\\\\")).toEqual(["a=x'y", 'b=\\']);
  expect(tokenize('a\\')).toEqual(['a\\']); // a final backslash stays
  expect(() => tokenize('a="b')).toThrow(expect.objectContaining({ code: 'ERR_IOTH_CONFIG', message: 'invalid configuration item \'a="b\': unterminated " quote' }));
});

test('tokenize gives back any list of tokens that was quoted and joined', () => {
  // Single quotes with \ before ' and \ protect every separator and quote character.
  const quote = (s: string) => `'${s.replace(/[\\']/g, '\\$&')}'`;
  const separators = fc.constantFrom(',', ';', ' ', '\t', '\n', ', ');
  fc.assert(fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', '=', ',', ';', ' ', '\t', '\n', "'", '"', '\\', 'é') })), separators,
    (tokens, sep) => {
      expect(tokenize(tokens.map(quote).join(sep))).toEqual(tokens);
    }), fcParams(500));
});

test('the plan of a string: defaults, methods asked for, undo forms, values normalised', () => {
  const plan = parseConfig('eth ip=10.0.0.1 ip=fd00::1 ip=10.1.0.1/16 -gw=10.0.0.254 dns=fd00::35 domain=a.test. fqdn=h.a.test. mtu=1400 auto6 -dhcp', false);
  expect(plan.add.ip).toEqual([
    { address: '10.0.0.1', prefixLen: 24, token: 'ip=10.0.0.1' }, // iothconf's defaults: /24 and /64
    { address: 'fd00::1', prefixLen: 64, token: 'ip=fd00::1' },
    { address: '10.1.0.1', prefixLen: 16, token: 'ip=10.1.0.1/16' },
  ]);
  expect(plan.del.gw).toEqual([{ address: '10.0.0.254', token: '-gw=10.0.0.254' }]);
  expect(plan).toMatchObject({ fqdn: 'h.a.test', mtu: 1400, slaac: false, nodad: false, debug: false });
  expect(plan.add.domain).toEqual(['a.test']);
  expect(plan.add.dns).toEqual(['fd00::35']);
  expect([...plan.required].sort()).toEqual(['eth', 'static']);
  expect([...plan.optional].sort()).toEqual(['dhcp6', 'rd']);
  expect([...plan.clean]).toEqual(['dhcp4']);
  expect([...parseConfig('-all', false).clean].sort()).toEqual(['dhcp4', 'dhcp6', 'eth', 'rd']);
  expect(parseConfig('', false).required.size).toBe(0); // the empty string reads the configuration back
});

test('stack= and vnl= belong to Stack.fromConfig only', () => {
  expect(parseConfig("stack=vdestack vnl='vde:///tmp/a b' eth", true)).toMatchObject({ stack: 'vdestack', vnl: 'vde:///tmp/a b' });
  expect(() => parseConfig('vnl=null://', false)).toThrow(expect.objectContaining({ code: 'ERR_IOTH_CONFIG', message: expect.stringMatching(/Stack\.fromConfig\(\)/) }));
});

test('every known key without a value parses on its own, or says what it needs', () => {
  const valued = new Set<string>();
  for (const key of KNOWN_KEYS) {
    let error: { code?: string; message: string } | undefined;
    try {
      parseConfig(key, false);
    } catch (e) {
      error = e as { code?: string; message: string };
    }
    if (!error) continue;
    expect(error.code).toBe('ERR_IOTH_CONFIG');
    if (/needs a value|belongs to Stack\.fromConfig/.test(error.message)) valued.add(key.replace(/^-/, ''));
    else expect([key, error.message]).toEqual([key, expect.stringMatching(/^invalid configuration item '(slaac|nodad)': /)]);
  }
  expect([...valued].sort()).toEqual(['dns', 'domain', 'fqdn', 'gw', 'iface', 'ifindex', 'ip', 'mac', 'macaddr', 'mtu', 'stack', 'vnl']);
});

const refused = BAD.filter(([, code]) => code === 'ERR_IOTH_CONFIG');

test.each(refused)('bad string %j: refused by the parser with %s, naming the item', (config, code, message) => {
  expect(() => parseConfig(`${BAD_PREFIX}${config}`, false)).toThrow(expect.objectContaining({
    code, message: expect.stringMatching(message),
  }));
  expect(() => parseConfig(`${BAD_PREFIX}${config}`, false)).toThrow(/^invalid configuration item '/);
});

test('the strings only a stack can refuse (no such interface) are well-formed', () => {
  const others = BAD.filter(([, code]) => code !== 'ERR_IOTH_CONFIG');
  expect(others.map(([, code]) => code)).toEqual(['ENODEV', 'ENXIO']);
  for (const [config] of others) expect(() => parseConfig(`${BAD_PREFIX}${config}`, false)).not.toThrow();
  expect(refused.length).toBe(BAD.length - 2);
});

test('config must be a string', () => {
  for (const value of [42, null, undefined, ['eth'], { eth: true }]) {
    expect(() => parseConfig(value as unknown as string, false)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' }));
  }
});

test('any string gives a plan or ERR_IOTH_CONFIG, never another error', () => {
  const items = fc.oneof(fc.constantFrom(...KNOWN_KEYS), fc.string({ maxLength: 12 }),
    fc.tuple(fc.constantFrom(...KNOWN_KEYS), fc.string({ maxLength: 40 })).map(([k, v]) => `${k}=${v}`));
  fc.assert(fc.property(fc.array(items, { maxLength: 6 }), fc.constantFrom(',', ' ', ';'), (list, sep) => {
    try {
      parseConfig(list.join(sep), true);
    } catch (e) {
      expect((e as { code?: string }).code).toBe('ERR_IOTH_CONFIG');
    }
  }), fcParams(2000));
});
