// DNS record shaping (src/dns/records.ts): the answer section of a decoded reply in node:dns's
// result shapes, which records count (the question's name and its CNAME chain), the TTLs, and
// ENODATA. Replies go through dns-packet's encoder and decoder first, as the resolver sees them.
// (The same shapes compared with Node's own resolver over loopback: dns-loopback.test.ts.)
import * as packet from 'dns-packet';
import { toResult } from '../../src/dns/records';
import { asNode } from '../helpers/node-records';

const reply = (answers: packet.Answer[]) => packet.decode(packet.encode({ type: 'response', id: 1, answers }));
const a = (name: string, data: string, ttl = 60): packet.Answer => ({ name, type: 'A', ttl, data });
const cname = (name: string, data: string, ttl = 60): packet.Answer => ({ name, type: 'CNAME', ttl, data });

test('every type in its node:dns shape', () => {
  const r = reply([
    a('x.test', '10.0.0.1'),
    { name: 'x.test', type: 'AAAA', ttl: 60, data: 'fd00::1' },
    { name: 'x.test', type: 'MX', ttl: 60, data: { preference: 10, exchange: 'mail.x.test' } },
    { name: 'x.test', type: 'NS', ttl: 60, data: 'ns.x.test' },
    { name: 'x.test', type: 'PTR', ttl: 60, data: 'p.x.test' },
    { name: 'x.test', type: 'TXT', ttl: 60, data: ['one', 'two'] },
    { name: 'x.test', type: 'SRV', ttl: 60, data: { priority: 1, weight: 2, port: 3, target: 't.x.test' } },
    { name: 'x.test', type: 'NAPTR', ttl: 60, data: { order: 1, preference: 2, flags: 'S', services: 'SIP+D2U', regexp: '', replacement: 'r.x.test' } },
    { name: 'x.test', type: 'SOA', ttl: 60, data: { mname: 'ns.x.test', rname: 'h.x.test', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 } },
    { name: 'x.test', type: 'CAA', ttl: 60, data: { flags: 128, tag: 'issue', value: 'ca.test' } },
  ]);
  expect(toResult(r, 'x.test', 'A')).toEqual(['10.0.0.1']);
  expect(toResult(r, 'x.test', 'AAAA')).toEqual(['fd00::1']);
  expect(toResult(r, 'x.test', 'MX')).toEqual(asNode('MX', { exchange: 'mail.x.test', priority: 10 }));
  expect(toResult(r, 'x.test', 'NS')).toEqual(['ns.x.test']);
  expect(toResult(r, 'x.test', 'PTR')).toEqual(['p.x.test']);
  expect(toResult(r, 'x.test', 'TXT')).toEqual([['one', 'two']]);
  expect(toResult(r, 'x.test', 'SRV')).toEqual(asNode('SRV', { name: 't.x.test', port: 3, priority: 1, weight: 2 }));
  expect(toResult(r, 'x.test', 'NAPTR')).toEqual([{ flags: 'S', service: 'SIP+D2U', regexp: '', replacement: 'r.x.test', order: 1, preference: 2 }]);
  expect(toResult(r, 'x.test', 'SOA')).toEqual({ nsname: 'ns.x.test', hostmaster: 'h.x.test', serial: 1, refresh: 2, retry: 3, expire: 4, minttl: 5 });
  expect(toResult(r, 'x.test', 'CAA')).toEqual(asNode('CAA', { critical: 128, issue: 'ca.test' }));
  expect(toResult(r, 'x.test', 'A', true)).toEqual([{ address: '10.0.0.1', ttl: 60 }]);
});

test('ANY lists each record with its type; TXT as entries, names as value', () => {
  const r = reply([a('x.test', '10.0.0.1', 30), { name: 'x.test', type: 'TXT', ttl: 60, data: 'one' },
    { name: 'x.test', type: 'NS', ttl: 60, data: 'ns.x.test' }, a('other.test', '10.0.0.9')]);
  expect(toResult(r, 'x.test', 'ANY')).toEqual([
    { type: 'A', address: '10.0.0.1', ttl: 30 }, { type: 'TXT', entries: ['one'] }, { type: 'NS', value: 'ns.x.test' },
  ]);
});

test('the CNAME chain: its records count, with the smallest TTL along it; others do not', () => {
  const r = reply([cname('alias.test', 'mid.test', 100), cname('mid.test', 'x.test', 40), a('x.test', '10.0.0.1', 300),
    a('unrelated.test', '10.6.6.6')]);
  expect(toResult(r, 'alias.test', 'A')).toEqual(['10.0.0.1']);
  expect(toResult(r, 'alias.test', 'A', true)).toEqual([{ address: '10.0.0.1', ttl: 40 }]);
  expect(toResult(r, 'alias.test', 'CNAME')).toEqual(['x.test']); // the end of the chain
  expect(toResult(r, 'ALIAS.test', 'A')).toEqual(['10.0.0.1']); // names compare without case
  expect(() => toResult(r, 'x.test', 'CNAME')).toThrow(expect.objectContaining({ code: 'ENODATA' }));
});

test('a CNAME loop ends: the records reached count, nothing hangs', () => {
  const r = reply([cname('a.test', 'b.test'), cname('b.test', 'a.test'), a('b.test', '10.0.0.2')]);
  expect(toResult(r, 'a.test', 'A')).toEqual(['10.0.0.2']);
  const long = reply(Array.from({ length: 40 }, (_, i) => cname(`n${i}.test`, `n${i + 1}.test`)).concat(a('n40.test', '10.0.0.3')));
  expect(() => toResult(long, 'n0.test', 'A')).toThrow(expect.objectContaining({ code: 'ENODATA' })); // at most 16 hops
});

test('no record of the type, or no answers at all: ENODATA', () => {
  expect(() => toResult(reply([a('x.test', '10.0.0.1')]), 'x.test', 'AAAA')).toThrow(expect.objectContaining({ code: 'ENODATA' }));
  expect(() => toResult({}, 'x.test', 'A')).toThrow(expect.objectContaining({ code: 'ENODATA' }));
});

test('the root name reads as "" (c-ares); TXT bytes as Latin-1, as Node builds its strings', () => {
  const r = reply([{ name: 'x.test', type: 'MX', ttl: 1, data: { preference: 0, exchange: '.' } },
    { name: 'x.test', type: 'TXT', ttl: 1, data: [Buffer.from([0x63, 0x61, 0x66, 0xe9])] }]);
  expect(toResult(r, 'x.test', 'MX')).toEqual(asNode('MX', { exchange: '', priority: 0 }));
  expect(toResult(r, 'x.test', 'TXT')).toEqual([['caf\u00e9']]);
});
