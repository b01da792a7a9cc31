// Identities from a host name (src/config/fqdn.ts: libiothconf's MD5-derived MAC and IPv6
// identifier, and RFC 4291's modified EUI-64), and DNS names in DHCP and router advertisement
// options (src/config/names.ts: RFC 1035 wire format with compression, as RFC 3397 uses it).
import * as fc from 'fast-check';
import { eui64Address6, hashAddress6, hashMac } from '../../src/config/fqdn';
import { decodeNames, encodeName } from '../../src/config/names';
import { formatIp, formatMac, parseIp } from '../../src/internal/address';
import { fcParams } from '../helpers/fuzz';

const prefix = (p: string) => parseIp('prefix', p).bytes;

describe('identities from a name', () => {
  // The answers libiothconf gives for this name (seen through a stack in test/stack/iothconf.test.ts
  // and, from slirp's router advertisement, in test/network/dhcp.test.ts).
  test('node1.iothts.test: MAC 16:b3:43:8b:2b:d7, fd00::14b3:43c2:2c8b:2bd7 in fd00::/64', () => {
    expect(formatMac(hashMac('node1.iothts.test'))).toBe('16:b3:43:8b:2b:d7');
    expect(formatIp(hashAddress6(prefix('fd00::'), 'node1.iothts.test'))).toBe('fd00::14b3:43c2:2c8b:2bd7');
  });

  test('a final dot changes nothing', () => {
    expect(hashMac('node1.iothts.test.').equals(hashMac('node1.iothts.test'))).toBe(true);
    expect(hashAddress6(prefix('fd00::'), 'a.test.').equals(hashAddress6(prefix('fd00::'), 'a.test'))).toBe(true);
  });

  test('any name: a locally administered unicast MAC; the prefix kept, the identifier\'s two low bits of byte 8 clear', () => {
    fc.assert(fc.property(fc.domain(), fc.uint8Array({ minLength: 8, maxLength: 8 }), (name, high) => {
      const mac = hashMac(name);
      expect(mac).toHaveLength(6);
      expect(mac[0] & 0x03).toBe(0x02);
      const p = Buffer.concat([Buffer.from(high), Buffer.alloc(8)]);
      const addr = hashAddress6(p, name);
      expect(addr.subarray(0, 8).equals(p.subarray(0, 8))).toBe(true);
      expect(addr[8] & 0x03).toBe(0);
    }), fcParams(300));
  });

  test('modified EUI-64 (RFC 4291 appendix A; RFC 7042\'s example 00-00-5E-00-53-01)', () => {
    const mac = Buffer.from('00005e005301', 'hex');
    expect(formatIp(eui64Address6(prefix('fe80::'), mac))).toBe('fe80::200:5eff:fe00:5301');
    expect(formatIp(eui64Address6(prefix('2001:db8:1:2::'), Buffer.from('020000000001', 'hex')))).toBe('2001:db8:1:2:0:ff:fe00:1');
  });
});

describe('DNS names in options', () => {
  test('RFC 3397\'s example search list, with its compression pointer', () => {
    const option = Buffer.concat([
      Buffer.from('\x03eng\x05apple\x03com\x00', 'latin1'),
      Buffer.from('\x09marketing\xc0\x04', 'latin1'), // "marketing" then a pointer to offset 4 ("apple.com")
    ]);
    expect(decodeNames(option)).toEqual(['eng.apple.com', 'marketing.apple.com']);
  });

  test('encodeName writes the wire form; names packed one after another come back in order', () => {
    expect(encodeName('a.bc')).toEqual(Buffer.from('\x01a\x02bc\x00', 'latin1'));
    fc.assert(fc.property(fc.array(fc.domain(), { maxLength: 5 }), (names) => {
      expect(decodeNames(Buffer.concat(names.map(encodeName)))).toEqual(names);
    }), fcParams(300));
  });

  test('stopAtZero ends at padding; malformed names throw', () => {
    expect(decodeNames(Buffer.concat([encodeName('a.test'), Buffer.alloc(3)]), true)).toEqual(['a.test']);
    expect(() => decodeNames(Buffer.from([0xc0, 0]))).toThrow(); // a pointer to itself
    expect(() => decodeNames(Buffer.from([5, 0x61]))).toThrow(); // a label past the end
  });
});
