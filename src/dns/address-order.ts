// The order of getaddrinfo()'s answers, which is what Node's 'verbatim' order means on Linux:
// glibc sorts them by destination address selection (RFC 3484's rules as glibc applies them,
// with its default tables), judged from the source address the stack would use for each one.
// So a name with 127.0.0.1 and ::1 answers ::1 first whatever the hosts file's order, and an
// address the stack has no route to goes last. /etc/gai.conf is not read (Debian ships it all
// comments); rules 3, 4 and 7 (deprecated and home addresses, native transport) are not applied:
// no stack address is deprecated or a home address unless made so by hand.
import type { DnsTransport } from './transport';
import { parseIp } from '../internal/address';

/** An answer: the fields the order looks at. */
interface LookupAddress {
  address: string;
  family: number;
}

interface Candidate<T extends LookupAddress = LookupAddress> {
  entry: T;
  index: number;
  dst: Buffer; // 16 bytes, IPv4 as ::ffff:a.b.c.d
  src: Buffer | null; // null: no route, the destination is unusable
  srcPrefixLen: number; // of the source's address on the stack, for IPv4's rule 9; 0 if unknown
}

const LOOPBACK6 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const MAPPED = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
const LOOPBACK6_BYTES = Buffer.from(LOOPBACK6);
const MAPPED_BYTES = Buffer.from(MAPPED);

const bytes16 = (address: string): Buffer => {
  const { bytes } = parseIp('address', address.split('%')[0]);
  return bytes.length === 16 ? bytes : Buffer.concat([MAPPED_BYTES, bytes]);
};

const isMapped = (a: Buffer) => a.subarray(0, 12).equals(MAPPED_BYTES);

/** Whether `address` is IPv6's loopback (::1 in any spelling, no zone). */
export const isLoopback6 = (address: string): boolean => !address.includes('%') && bytes16(address).equals(LOOPBACK6_BYTES);

/** Whether the first `bits` bits of `a` are those of `prefix`. */
function inPrefix(a: Buffer, prefix: number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const bit = (byte: number) => (byte >> (7 - (i % 8))) & 1;
    if (bit(a[i >> 3]) !== bit(prefix[i >> 3] ?? 0)) return false;
  }
  return true;
}

type Table = Array<[prefix: number[], bits: number, value: number]>;
// glibc's default label and precedence tables, longest prefix first.
const LABELS: Table = [[LOOPBACK6, 128, 0], [[0x20, 0x02], 16, 2], [[], 96, 3], [MAPPED, 96, 4],
  [[0xfe, 0xc0], 10, 5], [[0xfc], 7, 6], [[0x20, 0x01, 0, 0], 32, 7], [[], 0, 1]];
const PRECEDENCE: Table = [[LOOPBACK6, 128, 50], [[0x20, 0x02], 16, 30], [[], 96, 20], [MAPPED, 96, 10], [[], 0, 40]];

const lookupTable = (table: Table, a: Buffer) => table.find(([prefix, bits]) => inPrefix(a, prefix, bits))![2];

/**
 * Scope: 2 link-local (IPv4 169.254/16 and 127/8, IPv6 fe80::/10 and ::1), 5 site-local (fec0::/10;
 * glibc 2.36 and later no longer count IPv4's private ranges), 14 global; a multicast address's own.
 */
function scope(a: Buffer): number {
  if (isMapped(a)) {
    const [x, y] = [a[12], a[13]];
    if ((x === 169 && y === 254) || x === 127) return 2;
    return 14;
  }
  if (a[0] === 0xff) return a[1] & 0x0f; // multicast: its own scope field
  if ((a[0] === 0xfe && (a[1] & 0xc0) === 0x80) || a.equals(LOOPBACK6_BYTES)) return 2;
  if (a[0] === 0xfe && (a[1] & 0xc0) === 0xc0) return 5;
  return 14;
}

/** Leading bits in common, within the first 32-bit word where either pair differs (glibc's rule 9 for IPv6). */
function commonBits(dst: Buffer, src: Buffer, word: number): number {
  const x = (dst.readUInt32BE(word * 4) ^ src.readUInt32BE(word * 4)) >>> 0;
  return Math.clz32(x);
}

/** Rule 9, longest matching prefix: for IPv4 only within the source's subnet. */
function rule9(a: Candidate, b: Candidate): number {
  if (a.entry.family !== b.entry.family || !a.src || !b.src) return 0;
  let bitsA = 0;
  let bitsB = 0;
  if (a.entry.family === 4) { // both IPv4, held as ::ffff:a.b.c.d
    const match = (c: Candidate) => {
      const mask = c.srcPrefixLen === 0 ? 0 : (0xffffffff << (32 - c.srcPrefixLen)) >>> 0;
      const [d, s] = [c.dst.readUInt32BE(12), c.src!.readUInt32BE(12)];
      return c.srcPrefixLen > 0 && ((d & mask) >>> 0) === ((s & mask) >>> 0) ? Math.clz32((d ^ s) >>> 0) : 0;
    };
    bitsA = match(a);
    bitsB = match(b);
  } else {
    let word = 0;
    while (word < 4 && a.dst.readUInt32BE(word * 4) === a.src.readUInt32BE(word * 4)
      && b.dst.readUInt32BE(word * 4) === b.src.readUInt32BE(word * 4)) word++;
    if (word < 4) {
      bitsA = commonBits(a.dst, a.src, word);
      bitsB = commonBits(b.dst, b.src, word);
    }
  }
  return bitsB - bitsA;
}

function compare(a: Candidate, b: Candidate): number {
  // Rule 1: avoid unusable destinations.
  if (!a.src !== !b.src) return a.src ? -1 : 1;
  const [dstScopeA, dstScopeB] = [scope(a.dst), scope(b.dst)];
  if (a.src && b.src) {
    // Rule 2: prefer matching scope.
    const [matchA, matchB] = [dstScopeA === scope(a.src), dstScopeB === scope(b.src)];
    if (matchA !== matchB) return matchA ? -1 : 1;
    // Rule 5: prefer matching label.
    const [labelA, labelB] = [lookupTable(LABELS, a.dst) === lookupTable(LABELS, a.src),
      lookupTable(LABELS, b.dst) === lookupTable(LABELS, b.src)];
    if (labelA !== labelB) return labelA ? -1 : 1;
  }
  // Rule 6: prefer higher precedence.
  const precedence = lookupTable(PRECEDENCE, b.dst) - lookupTable(PRECEDENCE, a.dst);
  if (precedence !== 0) return precedence;
  // Rule 8: prefer smaller scope.
  if (dstScopeA !== dstScopeB) return dstScopeA - dstScopeB;
  // Rule 9, then rule 10: the order found.
  return rule9(a, b) || a.index - b.index;
}

/** The source address towards `address`: the transport's, or a UDP socket connected there; null if none. */
function sourceFor(transport: DnsTransport, entry: LookupAddress): Promise<string | null> {
  if (transport.sourceAddress) {
    try {
      return Promise.resolve(transport.sourceAddress(entry.address));
    } catch {
      return Promise.resolve(null);
    }
  }
  return new Promise((resolve) => {
    let socket: ReturnType<DnsTransport['udpSocket']>;
    try {
      socket = transport.udpSocket(entry.family === 6 ? 6 : 4);
    } catch {
      resolve(null);
      return;
    }
    const done = (source: string | null) => {
      try { socket.close(); } catch { /* already closed */ }
      resolve(source);
    };
    socket.once('error', () => done(null));
    // Any port: the route, not the port, decides the source (glibc connects to the service's port).
    try {
      socket.connect(9, entry.address, (err?: Error) => {
        if (err) done(null);
        else try { done(socket.address().address); } catch { done(null); }
      });
    } catch {
      done(null);
    }
  });
}

/** The prefix lengths of the stack's IPv4 addresses, by address. */
function prefixLengths(transport: DnsTransport): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of Object.values(transport.interfaces?.() ?? {}).flat()) {
    if (a && a.cidr && !a.address.includes(':')) out.set(a.address, Number(a.cidr.split('/')[1]));
  }
  return out;
}

/** `list` in getaddrinfo's order on the stack (one address, or none: as it is). */
export async function destinationOrder<T extends LookupAddress>(transport: DnsTransport, list: T[]): Promise<T[]> {
  // One address, however often listed (Debian's localhost gives 127.0.0.1 twice to an IPv4
  // look-up): nothing to order, and no socket to open for it.
  if (new Set(list.map((e) => e.address)).size < 2) return list;
  const sources = await Promise.all(list.map((entry) => sourceFor(transport, entry)));
  // IPv4's rule 9 needs the sources' prefix lengths: listed (a netlink dump) only when two usable
  // IPv4 answers may come to it.
  const v4Usable = list.filter((e, i) => e.family === 4 && sources[i] !== null).length;
  const lengths = v4Usable >= 2 ? prefixLengths(transport) : new Map<string, number>();
  const candidates: Array<Candidate<T>> = list.map((entry, index) => {
    const source = sources[index];
    return {
      entry,
      index,
      dst: bytes16(entry.address),
      src: source === null ? null : bytes16(source),
      srcPrefixLen: source === null || entry.family === 6 ? 0 : lengths.get(source.replace(/^::ffff:/i, '')) ?? 0,
    };
  });
  return candidates.sort(compare).map((c) => c.entry);
}
