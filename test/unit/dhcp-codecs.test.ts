// The DHCPv4, DHCPv6 and router advertisement codecs alone, as pure functions: replies a hostile
// peer could send, each dropped (null) or refused, never thrown out of the client, never configuring
// anything; and fast-check over random and mutated replies. (The protocols against real servers:
// test/network/dhcp.test.ts.)
import * as fc from 'fast-check';
import * as dhcp4 from '../../src/config/dhcp4';
import * as dhcp6 from '../../src/config/dhcp6';
import * as rd from '../../src/config/rd';
import { parseIp } from '../../src/internal/address';
import { parseRequest, reply as serverReply } from '../helpers/dhcp-server';
import { fcParams } from '../helpers/fuzz';

describe('replies that must be ignored, decoded directly', () => {
  // DHCPv6 and router advertisements as a hostile peer could send them; each must be dropped
  // (null), never throw out of the client, never configure anything.
  const mac = Buffer.from('020000000001', 'hex');
  const id = { fd: -1, ifindex: 2, mac };
  const duid = Buffer.concat([Buffer.from([0, 3, 0, 1]), mac]);
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
  const addr = (a: string) => parseIp('a', a).bytes;
  const iaaddr = (a: string, valid = 100, inner: Buffer = Buffer.alloc(0)) =>
    dhcp6.encodeOptions([[5, Buffer.concat([addr(a), u32(50), u32(valid), inner])]]);
  const reply = (xid: number, options: [number, Buffer][]) => ({ data: dhcp6.encodeDhcp6(7, xid, options), address: 'fe80::1', port: 547, scopeId: 2 });
  const good: [number, Buffer][] = [[1, duid], [2, Buffer.from('0001aa', 'hex')],
    [3, Buffer.concat([u32(2), u32(10), u32(20), iaaddr('fd00:1:0:0:0:0:0:5')])]];

  test('a genuine DHCPv6 reply is accepted (the baseline the others differ from)', () => {
    expect(dhcp6.acceptReply(reply(7, good), id, 7, [7])).not.toBeNull();
  });

  test.each([
    ['another transaction', reply(8, good)],
    ['another client', reply(7, [[1, Buffer.from('00030001020000000002', 'hex')], ...good.slice(1)])],
    ['no server identifier', reply(7, good.filter(([c]) => c !== 2))],
    ['an option running past the end', { ...reply(7, good), data: Buffer.concat([dhcp6.encodeDhcp6(7, 7, good), Buffer.from([0, 23, 0, 200, 1])]) }],
    ['a truncated option header', { ...reply(7, good), data: Buffer.concat([dhcp6.encodeDhcp6(7, 7, good), Buffer.from([0, 23])]) }],
    ['an IA_NA shorter than its header', reply(7, [...good.slice(0, 2), [3, Buffer.from([0, 0, 0, 2, 0])]])],
    ['an IAADDR shorter than an address', reply(7, [...good.slice(0, 2), [3, Buffer.concat([u32(2), u32(10), u32(20), dhcp6.encodeOptions([[5, Buffer.alloc(10)]])])]])],
    ['DNS servers not a multiple of 16 bytes', reply(7, [...good, [23, Buffer.alloc(17)]])],
    ['a search list with a compression loop', reply(7, [...good, [24, Buffer.from([0xc0, 0])]])],
    ['a message type not asked for', { ...reply(7, good), data: dhcp6.encodeDhcp6(2, 7, good) }],
    ['too short to be a message', { ...reply(7, good), data: Buffer.from([7, 0]) }],
  ])('DHCPv6: %s', (_what, datagram) => {
    expect(dhcp6.acceptReply(datagram, id, 7, [7])).toBeNull();
  });

  test.each([
    ['a link-local address leased', [3, Buffer.concat([u32(2), u32(10), u32(20), iaaddr('fe80:0:0:0:0:0:0:5')])]],
    ['a multicast address leased', [3, Buffer.concat([u32(2), u32(10), u32(20), iaaddr('ff02:0:0:0:0:0:0:1')])]],
    ['an address with a zero valid lifetime', [3, Buffer.concat([u32(2), u32(10), u32(20), iaaddr('fd00:1:0:0:0:0:0:5', 0)])]],
    ['an address with an error status', [3, Buffer.concat([u32(2), u32(10), u32(20), iaaddr('fd00:1:0:0:0:0:0:5', 100, dhcp6.encodeOptions([[13, Buffer.from([0, 2])]]))])]],
    ['an IA_NA for another IAID', [3, Buffer.concat([u32(9), u32(10), u32(20), iaaddr('fd00:1:0:0:0:0:0:5')])]],
  ] as [string, [number, Buffer]][])('DHCPv6: %s gives no address', (_what, ia) => {
    expect(dhcp6.leasedAddress(dhcp6.decodeDhcp6(reply(7, good).data).options, 2)).toMatchObject({ address: 'fd00:1::5', valid: 100 });
    expect(dhcp6.leasedAddress(dhcp6.decodeDhcp6(reply(7, [...good.slice(0, 2), ia]).data).options, 2)).toBeNull();
  });

  const ra = (options: Buffer) =>
    Buffer.concat([Buffer.from([134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0]), options]);
  const prefix = Buffer.concat([Buffer.from([3, 4, 64, 0xc0]), u32(100), u32(50), u32(0), addr('fd00:1:0:0:0:0:0:0')]);

  test('a genuine router advertisement is decoded (the baseline)', () => {
    expect(rd.decodeAdvertisement(ra(prefix), 'fe80::1')).toMatchObject({ lifetime: 0x708, prefixes: [{ prefix: 'fd00:1::', prefixLen: 64, autonomous: true }] });
  });

  test.each([
    ['an option of length 0', ra(Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]))],
    ['an option running past the end', ra(Buffer.from([3, 4, 64]))],
    ['a prefix longer than 128 bits', ra(Buffer.concat([Buffer.from([3, 4, 200, 0xc0]), prefix.subarray(4)]))],
    ['a DNSSL with a compression loop', ra(Buffer.from([31, 2, 0, 0, 0, 0, 0, 10, 0xc0, 8, 0, 0, 0, 0, 0, 0]))],
    ['not an advertisement', Buffer.from([133, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['a truncated header', Buffer.from([134, 0, 0])],
  ])('router advertisement: %s is refused', (_what, data) => {
    expect(() => rd.decodeAdvertisement(data, 'fe80::1')).toThrow();
  });
});

describe('fast-check: random and mutated replies', () => {
  // FC_SEED / FC_RUNS as in the other property tests (test/fixtures/hostile.js).
  const mac = Buffer.from('020000000001', 'hex');
  const request = Buffer.alloc(300);
  request.writeUInt32BE(0x01020304, 4);
  mac.copy(request, 28);
  const ack = serverReply(request, 5, { address: '10.9.0.50', server: '10.9.0.1', lease: 3600 });
  const byte = fc.integer({ min: 0, max: 255 });
  const mutations = (good: Buffer) =>
    fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), byte), { minLength: 1, maxLength: 8 })
      .map((edits) => { const b = Buffer.from(good); for (const [i, v] of edits) b[i] = v; return b; });
  let tried = 0;
  afterAll(() => console.log(`dhcp fast-check: ${tried} replies tried`));

  test('DHCPv4: any bytes, or a genuine ACK with bytes changed, are ignored or taken only as a lease for this client', () => {
    const { seed, numRuns } = fcParams(3000);
    const bytes = fc.uint8Array({ maxLength: 700 }).map((a) => Buffer.from(a));
    fc.assert(fc.property(fc.oneof(bytes, mutations(ack)), (data) => {
      tried++;
      const p = dhcp4.acceptReply({ data, address: '10.9.0.1', port: 67, scopeId: 0 }, 0x01020304, mac, [5]);
      if (!p) return;
      expect(p.xid).toBe(0x01020304);
      expect(p.chaddr.equals(mac)).toBe(true);
      const lease = dhcp4.leaseOf(p);
      expect(lease.prefixLen).toBeGreaterThanOrEqual(1);
      expect(lease.address).not.toMatch(/^(0|127|22[4-9]|2[3-5]\d)\./);
    }), { seed, numRuns });
  });

  test('DHCPv6 and router advertisements: any bytes are ignored or decoded, never a crash', () => {
    const { seed, numRuns } = fcParams(3000);
    const id = { fd: -1, ifindex: 2, mac };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 700 }).map((a) => Buffer.from(a)), (data) => {
      tried += 2;
      dhcp6.acceptReply({ data, address: 'fe80::1', port: 547, scopeId: 2 }, id, data.length >= 4 ? data.readUIntBE(1, 3) : 0, [2, 7]);
      try {
        const ra = rd.decodeAdvertisement(Buffer.concat([Buffer.from([134, 0]), data]), 'fe80::1');
        for (const p of ra.prefixes) expect(p.prefixLen).toBeLessThanOrEqual(128);
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
      }
    }), { seed, numRuns });
  });
});

describe('the DHCPv4 client, driven step by step against the test server', () => {
  // The exchange generators yield "send" and "receive" steps; here the test DHCP server's encoder
  // and parser (test/helpers/dhcp-server.ts, written apart from src/config) play the other side.
  const mac = Buffer.from('020000000042', 'hex');
  const id = { fd: -1, mac, fqdn: 'node7.iothts.test' };
  const server = { address: '10.9.0.77', server: '10.9.0.1', lease: 600, t1: 100 };
  const from = (data: Buffer) => ({ data, address: '10.9.0.1', port: 67, scopeId: 0 });
  type Step = { send: Buffer; address: string; port: number } | { receive: number };
  const sent = (step: IteratorResult<Step, unknown>) => {
    expect(step.done).toBe(false);
    expect(step.value).toHaveProperty('send');
    return step.value as { send: Buffer; address: string; port: number };
  };
  const waits = (step: IteratorResult<Step, unknown>) => {
    expect(step.done).toBe(false);
    expect((step.value as { receive: number }).receive).toBeGreaterThan(0);
  };

  test('DISCOVER, OFFER, REQUEST for the offered address, ACK: the lease', () => {
    const run = dhcp4.acquire(id);
    const discover = sent(run.next());
    expect(discover).toMatchObject({ address: '255.255.255.255', port: 67 });
    const d = parseRequestOrFail(discover.send);
    expect(d).toMatchObject({ type: 1, mac: '02:00:00:00:00:42', broadcast: true, ciaddr: '0.0.0.0' });
    waits(run.next());
    // A reply to another transaction first: ignored, the client keeps waiting.
    const foreign = Buffer.from(discover.send);
    foreign.writeUInt32BE((d.xid + 1) >>> 0, 4);
    waits(run.next(from(serverReply(foreign, 2, server))));
    const request = sent(run.next(from(serverReply(discover.send, 2, server))));
    expect(parseRequestOrFail(request.send)).toMatchObject({ type: 3, xid: d.xid, requested: '10.9.0.77', serverId: '10.9.0.1' });
    waits(run.next());
    const done = run.next(from(serverReply(request.send, 5, server)));
    expect(done.done).toBe(true);
    expect(done.value).toMatchObject({
      address: '10.9.0.77', prefixLen: 24, server: '10.9.0.1', routers: ['10.9.0.1'], dns: ['10.9.0.1'], domains: ['dhcp.test'],
      leaseTime: 600, renewalTime: 100, rebindingTime: 525, // T2 by default 7/8 of the lease (RFC 2131)
    });
  });

  test('a NAK to the REQUEST: "nak"', () => {
    const run = dhcp4.acquire(id);
    const discover = sent(run.next());
    waits(run.next());
    const request = sent(run.next(from(serverReply(discover.send, 2, server))));
    waits(run.next());
    expect(run.next(from(serverReply(request.send, 6, server)))).toEqual({ done: true, value: 'nak' });
  });

  test('no answer: one retransmission per timeout, then null', () => {
    const run = dhcp4.acquire(id);
    const xids = new Set<number>();
    let step = run.next();
    for (let i = 0; i < dhcp4.TIMEOUTS.length; i++) {
      xids.add(parseRequestOrFail(sent(step).send).xid);
      waits(run.next());
      step = run.next(null);
    }
    expect(step).toEqual({ done: true, value: null });
    expect(xids.size).toBe(1); // retransmissions keep the transaction id
  });

  test('renewing: a REQUEST from the leased address, unicast to its server; rebinding broadcasts', () => {
    const lease = { address: '10.9.0.77', server: '10.9.0.1' } as Parameters<typeof dhcp4.renew>[1];
    const renewing = sent(dhcp4.renew(id, lease, false).next());
    expect(renewing).toMatchObject({ address: '10.9.0.1', port: 67 });
    expect(parseRequestOrFail(renewing.send)).toMatchObject({ type: 3, ciaddr: '10.9.0.77', requested: undefined });
    expect(sent(dhcp4.renew(id, lease, true).next())).toMatchObject({ address: '255.255.255.255', port: 67 });
  });

  function parseRequestOrFail(b: Buffer) {
    const r = parseRequest(b);
    if (!r) throw new Error('the test server cannot parse what the client sent');
    return r;
  }
});
