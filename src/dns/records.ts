// The answer section of a reply in node:dns's result shapes (those of c-ares's parsers): which
// records count (the question's name and the CNAME chain from it) and how each type looks.
import type { AnyRecord } from 'node:dns';
import type * as packet from 'dns-packet';
import { nodeHasTlsa, typedRecords } from '../internal/node-reference';
import { DnsFailure } from './errors';

// dns-packet's union type is too narrow to index by a runtime type name: read records loosely.
type Rec = { name: string; type: string; ttl?: number; data: unknown };

const lower = (name: string) => name.toLowerCase();
/** c-ares spells the root name as "". */
const plain = (name: string) => (name === '.' ? '' : name);

/** The names that own records for `qname`: itself and its CNAME chain (at most 16 hops). */
function chain(answers: Rec[], qname: string): { owners: Set<string>; target: string; ttl: number } {
  const owners = new Set([lower(qname)]);
  let target = qname;
  let ttl = Infinity;
  for (let hop = 0; hop < 16; hop++) {
    const cname = answers.find((a) => a.type === 'CNAME' && lower(a.name) === lower(target));
    if (!cname || owners.has(lower(cname.data as string))) break;
    target = cname.data as string;
    ttl = Math.min(ttl, cname.ttl ?? 0);
    owners.add(lower(target));
  }
  return { owners, target, ttl };
}

// Each shape reads its own type's data; the record's type picks the shape at run time (shape()).
const SHAPES: Record<string, (data: never) => unknown> = {
  A: (data: string) => data,
  AAAA: (data: string) => data,
  CNAME: plain,
  NS: plain,
  PTR: plain,
  MX: (d: packet.MxData) => ({ exchange: plain(d.exchange), priority: d.preference }),
  // Node builds TXT strings from the bytes as Latin-1 (OneByteString): the same here.
  TXT: (d: packet.TxtData) => (Array.isArray(d) ? d : [d]).map((s) => (Buffer.isBuffer(s) ? s.toString('latin1') : s)),
  SRV: (d: packet.SrvData) => ({ name: plain(d.target), port: d.port, priority: d.priority, weight: d.weight }),
  NAPTR: (d: packet.NaptrData) => ({
    flags: d.flags, service: d.services, regexp: d.regexp, replacement: plain(d.replacement),
    order: d.order, preference: d.preference,
  }),
  SOA: (d: packet.SoaData) => ({
    nsname: plain(d.mname), hostmaster: plain(d.rname), serial: d.serial, refresh: d.refresh,
    retry: d.retry, expire: d.expire, minttl: d.minimum,
  }),
  CAA: (d: packet.CaaData) => ({ critical: d.flags ?? 0, [d.tag]: d.value }),
  // The data as an ArrayBuffer of its own, as Node gives it.
  TLSA: (d: packet.TlsaData) => ({
    certUsage: d.usage, selector: d.selector, match: d.matchingType,
    data: new Uint8Array(d.certificate).buffer,
  }),
};

const shapeOf = (type: string, data: unknown) => (SHAPES[type] as (data: unknown) => unknown)(data);

// The record types whose results carry `type` on the Node releases that add it (typedRecords).
const TYPED = new Set(['MX', 'CAA', 'SRV']);

/** One record as its own resolve method gives it: with `type` where the running Node adds it. */
function typedShape(type: string, data: unknown): unknown {
  const shape = shapeOf(type, data);
  if (!typedRecords || !TYPED.has(type)) return shape;
  if (type === 'CAA') { // Node's order: critical, type, then the tag
    const { critical, ...tag } = shape as { critical: number };
    return { critical, type, ...tag };
  }
  return { ...(shape as object), type };
}

/** One record as resolveAny() lists it: the type's shape plus `type`. */
function anyShape(rec: Rec): AnyRecord {
  const shape = shapeOf(rec.type, rec.data);
  switch (rec.type) {
    case 'A': case 'AAAA': return { type: rec.type, address: shape as string, ttl: rec.ttl ?? 0 };
    case 'CNAME': case 'NS': case 'PTR': return { type: rec.type, value: shape as string } as AnyRecord;
    case 'TXT': return { type: 'TXT', entries: shape as string[] };
    // resolveAny() lists TLSA records without `type` on every Node that has them (22.23, 24.22, 26.x).
    case 'TLSA': return shape as AnyRecord;
    default: return { type: rec.type, ...(shape as object) } as AnyRecord;
  }
}

/**
 * The result for a `type` query of `qname`, as the matching node:dns method gives it; with `ttl`,
 * A and AAAA come as { address, ttl } (the smallest TTL along the CNAME chain, as c-ares does).
 * No record of the type: ENODATA.
 */
export function toResult(reply: { answers?: packet.Answer[] }, qname: string, type: string, ttl = false): unknown {
  const answers = (reply.answers ?? []) as unknown as Rec[];
  const { owners, target, ttl: chainTtl } = chain(answers, qname);
  const owned = answers.filter((a) => owners.has(lower(a.name)));
  let result: unknown[];
  if (type === 'CNAME') {
    result = target === qname ? [] : [plain(target)];
  } else if (type === 'ANY') {
    // TLSA only where this Node lists it (its c-ares parses TLSA where node:dns has resolveTlsa).
    result = owned.filter((a) => a.type in SHAPES && (a.type !== 'TLSA' || nodeHasTlsa())).map(anyShape);
  } else {
    result = owned.filter((a) => a.type === type).map((a) => (ttl && (type === 'A' || type === 'AAAA')
      ? { address: a.data, ttl: Math.min(a.ttl ?? 0, chainTtl) }
      : typedShape(type, a.data)));
  }
  if (result.length === 0) throw new DnsFailure('ENODATA');
  return type === 'SOA' ? result[0] : result;
}
