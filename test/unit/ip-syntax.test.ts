// src/internal/ip-syntax.ts against the running Node in the same run: isIP/isIPv4/isIPv6 answer
// as net's do, and formatIpv6 prints as net.SocketAddress (libuv's inet_ntop), on addresses,
// near-addresses built from their pieces, and zero-heavy and IPv4-mapped bytes.
import * as net from 'node:net';
import * as fc from 'fast-check';
import { formatIpv6, isIP, isIPv4, isIPv6 } from '../../src/internal/ip-syntax';
import { fcParams } from '../helpers/fuzz';

const same = (text: string) => {
  const ours = [text, isIP(text), isIPv4(text), isIPv6(text)];
  expect(ours).toEqual([text, net.isIP(text), net.isIPv4(text), net.isIPv6(text)]);
};

test.each([
  '1:2:3:4:5:6:7:8', '1:2:3:4::5:6:7:8', '::', '::1', '1::', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '::ffff:1.2.3.4',
  '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3.4', '1.2.3.4::', 'fe80::1%eth0', 'fe80::1%', 'fe80::1%e%0',
  '1.2.3.4%x', '01.2.3.4', '1.2.3', '255.255.255.255', '256.1.1.1', '[::1]', '::1::', '1:::2', '12345::', ':1::', '1::2:', ':::', '',
])('%j as net.isIP says', same);

test('pieces of addresses put together at random: as net.isIP says', () => {
  const piece = fc.constantFrom('0', '1', '9', 'a', 'f', 'F', 'g', ':', '::', '.', '%', '255', '256', '01', 'ffff', '12345',
    '1.2.3.4', '0.0.0.0', 'eth0', '-', ' ', '');
  fc.assert(fc.property(fc.array(piece, { minLength: 1, maxLength: 12 }).map((p) => p.join('')), (text) => same(text)), fcParams(20000));
  fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), (text) => same(text)), fcParams(5000));
});

test('formatIpv6 prints as net.SocketAddress', () => {
  const word = fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff }));
  const words = fc.oneof(fc.array(word, { minLength: 8, maxLength: 8 }),
    fc.tuple(fc.boolean(), word, word).map(([mapped, a, b]) => [0, 0, 0, 0, 0, mapped ? 0xffff : 0, a, b]));
  fc.assert(fc.property(words, (w) => {
    const bytes = Buffer.alloc(16);
    w.forEach((x, i) => bytes.writeUInt16BE(x, 2 * i));
    const text = w.map((x) => x.toString(16)).join(':');
    expect(formatIpv6(bytes)).toBe(new net.SocketAddress({ address: text, family: 'ipv6' }).address);
  }), fcParams(20000));
});
