// Text forms of IP and MAC addresses (src/internal/address.ts), the bytes the addon takes: what is
// an address is Node's decision (net.isIP), and the canonical text is the one Node prints
// (inet_ntop through net.SocketAddress), checked against Node in the same run and RFC 5952's rules.
import * as net from 'node:net';
import * as os from 'node:os';
import * as fc from 'fast-check';
import { formatIp, formatMac, parseIp, parseMac, parsePrefixLen, prefixToNetmask } from '../../src/internal/address';
import { fcParams } from '../helpers/fuzz';

const nodeText = (address: string) => new net.SocketAddress({ address, family: net.isIPv6(address) ? 'ipv6' : 'ipv4' }).address;

describe('parseIp', () => {
  const corpus = [
    '10.0.0.1', '0.0.0.0', '255.255.255.255', '10.1', '10.0.0.256', '010.0.0.1', '0x0a.0.0.1', '1.2.3.4.5', ' 10.0.0.1', '',
    '::', '::1', 'fd00::1', 'FD00:0:0:0:0:0:0:1', '::ffff:10.0.0.1', '::10.0.0.1', '2001:db8::1::1', 'fe80::1%vde0', 'fe80::1%1',
    '[::1]', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', 'localhost', 'a'.repeat(100),
  ];

  test.each(corpus)('%j: an address exactly when Node says so (without a zone), in Node\'s text', (text) => {
    const isAddress = net.isIP(text) !== 0 && !text.includes('%');
    if (!isAddress) {
      expect(() => parseIp('addr', text)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' }));
      return;
    }
    const ip = parseIp('addr', text);
    expect(ip.family).toBe(net.isIP(text));
    expect(ip.bytes).toHaveLength(ip.family === 4 ? 4 : 16);
    expect(ip.text).toBe(nodeText(text));
  });

  test('the error names the argument and shows the value; a non-string is a type error', () => {
    expect(() => parseIp('gateway', '10.1')).toThrow("The argument 'gateway' must be an IPv4 or IPv6 address (without a zone). Received '10.1'");
    expect(() => parseIp('gateway', 167772161)).toThrow(expect.objectContaining({
      code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/^The "gateway" argument must be of type string \(an IP address\)\. Received type number/),
    }));
  });

  test('any IPv4 or IPv6 address: the bytes Node means, the text Node prints', () => {
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (text) => {
      const ip = parseIp('a', text);
      expect(ip.text).toBe(nodeText(text));
      // The bytes, through an independent path: Node's BlockList compares addresses as numbers.
      const list = new net.BlockList();
      list.addAddress(ip.text, ip.family === 4 ? 'ipv4' : 'ipv6');
      expect(list.check(text, ip.family === 4 ? 'ipv4' : 'ipv6')).toBe(true);
      expect(parseIp('a', formatIp(ip.bytes)).bytes.equals(ip.bytes)).toBe(true);
    }), fcParams(1000));
  });

  test('legacy IPv4 forms that inet_aton would take are refused, as Node refuses them', () => {
    fc.assert(fc.property(fc.ipV4Extended(), (text) => {
      if (net.isIPv4(text)) expect(parseIp('a', text).text).toBe(text);
      else expect(() => parseIp('a', text)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }), fcParams(500));
  });
});

describe('formatIp', () => {
  // RFC 5952 section 4: leading zeros dropped, the longest run of zero groups (the first of equal
  // ones, never a single group) shortened to ::, lower case; IPv4-mapped shown dotted.
  test.each([
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:DB8:0:0:0:0:0:ABCD', '2001:db8::abcd'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:ffff:a00:1', '::ffff:10.0.0.1'],
  ])('%s is printed %s, as Node prints it', (written, canonical) => {
    const bytes = Buffer.from(written.split(':').map((g) => g.padStart(4, '0')).join(''), 'hex');
    expect(formatIp(bytes)).toBe(canonical);
    expect(formatIp(bytes)).toBe(nodeText(written));
  });

  test('any 4 or 16 bytes: text that parses back to them, and that Node leaves as it is', () => {
    const length = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
    const bytes4or16 = fc.oneof(length(4), length(16));
    fc.assert(fc.property(bytes4or16, (a) => {
      const bytes = Buffer.from(a);
      const text = formatIp(bytes);
      expect(nodeText(text)).toBe(text);
      expect(parseIp('a', text).bytes.equals(bytes)).toBe(true);
    }), fcParams(2000));
  });

  test('another length is an internal error, not an address', () => {
    expect(() => formatIp(Buffer.alloc(5))).toThrow('iothts: internal error: address of 5 bytes');
  });
});

describe('prefixes and netmasks', () => {
  const addresses = Object.values(os.networkInterfaces()).flat().filter((a) => a !== undefined && a.cidr !== null);
  (addresses.length > 0 ? test : test.skip)(`prefixToNetmask agrees with os.networkInterfaces() on every address of this host${
    addresses.length > 0 ? '' : ' (skipped: this host has none, not even on lo)'}`, () => {
    for (const a of addresses) {
      const family = a!.family === 'IPv4' ? 4 : 6;
      expect([a!.cidr, prefixToNetmask(Number(a!.cidr!.split('/')[1]), family)]).toEqual([a!.cidr, a!.netmask]);
    }
  });

  test('every prefix length: its leading ones', () => {
    for (let n = 0; n <= 32; n++) {
      const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
      expect(prefixToNetmask(n, 4)).toBe([24, 16, 8, 0].map((s) => (mask >>> s) & 255).join('.'));
    }
    for (let n = 0; n <= 128; n++) {
      const bits = '1'.repeat(n) + '0'.repeat(128 - n);
      const groups = bits.match(/.{16}/g)!.map((g) => parseInt(g, 2).toString(16)).join(':');
      expect(prefixToNetmask(n, 6)).toBe(nodeText(groups));
    }
  });

  test('parsePrefixLen: integers within the family, else the Node-style error', () => {
    expect(parsePrefixLen('prefixLen', 0, 4)).toBe(0);
    expect(parsePrefixLen('prefixLen', 128, 6)).toBe(128);
    for (const [value, family] of [[33, 4], [129, 6], [-1, 4], [24.5, 4], [NaN, 6], [Infinity, 4]] as const) {
      expect(() => parsePrefixLen('prefixLen', value, family)).toThrow(expect.objectContaining({
        code: 'ERR_OUT_OF_RANGE', name: 'RangeError', message: expect.stringContaining(`from 0 to ${family === 4 ? 32 : 128} for IPv${family}`),
      }));
    }
    expect(() => parsePrefixLen('prefixLen', '24', 4)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('MAC addresses', () => {
  test('colons or dashes, any case, or 6 bytes; always printed with colons in lower case', () => {
    expect(formatMac(parseMac('mac', '02:00:AB:cd:00:01'))).toBe('02:00:ab:cd:00:01');
    expect(formatMac(parseMac('mac', '02-00-ab-CD-00-01'))).toBe('02:00:ab:cd:00:01');
    expect(formatMac(parseMac('mac', new Uint8Array([2, 0, 0, 0, 0, 0xff])))).toBe('02:00:00:00:00:ff');
    expect(formatMac(null)).toBe('00:00:00:00:00:00');
    expect(formatMac(Buffer.alloc(0))).toBe('00:00:00:00:00:00');
  });

  test.each(['02:00:00:00:00', '02:00:00:00:00:01:02', '02:00-00:00:00:01', '2:0:0:0:0:1', 'zz:00:00:00:00:01', '0200.0000.0001', ''])(
    '%j is refused, naming the argument', (text) => {
      expect(() => parseMac('mac', text)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/^The argument 'mac' must be a MAC address/) }));
    });

  test('other types and lengths are refused', () => {
    expect(() => parseMac('mac', new Uint8Array(5))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('6 bytes') }));
    expect(() => parseMac('mac', 0x020000000001)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  test('any 6 bytes survive printing and parsing', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), fc.boolean(), (a, upper) => {
      const text = formatMac(Buffer.from(a));
      expect(parseMac('mac', upper ? text.toUpperCase() : text.replace(/:/g, '-')).equals(Buffer.from(a))).toBe(true);
    }), fcParams(500));
  });
});
