// Text forms of IP and MAC addresses to and from the bytes the addon takes.
import type * as Ipaddr from 'ipaddr.js';
import { invalidArgType, invalidArgValue, outOfRange } from './errors';
import { MAC_PATTERN } from './validators';
import { formatIpv6, isIPv4, isIPv6 } from './ip-syntax';

// At first use: a configuration with no address (the hook's IOTH_CONFIG=eth) does not need it.
const ipaddr = (): typeof Ipaddr => require('ipaddr.js');

export type Family = 4 | 6;

export interface ParsedIp {
  family: Family;
  bytes: Buffer;
  text: string;
}

export function parseIp(name: string, value: unknown): ParsedIp {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string (an IP address)', value);
  // Node's own checks decide what is an address (ipaddr.js would also take legacy forms like "10.1").
  if (isIPv4(value) || (isIPv6(value) && !value.includes('%'))) {
    // ipaddr.js reads a dotted tail after "::" as IPv4-mapped ("::10.0.0.1" as ::ffff:10.0.0.1):
    // in IPv6 the tail becomes its two hex groups first.
    const group = (hi: string, lo: string) => (Number(hi) * 256 + Number(lo)).toString(16);
    const text = isIPv4(value) ? value
      : value.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a: string, b: string, c: string, d: string) => `${group(a, b)}:${group(c, d)}`);
    const bytes = Buffer.from(ipaddr().parse(text).toByteArray());
    return { family: bytes.length === 4 ? 4 : 6, bytes, text: formatIp(bytes) };
  }
  throw invalidArgValue(name, value, 'must be an IPv4 or IPv6 address (without a zone)');
}

/** The canonical text form (RFC 5952 for IPv6, as Node prints addresses). */
export function formatIp(bytes: Buffer): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw new Error(`iothts: internal error: address of ${bytes.length} bytes`);
  return formatIpv6(bytes); // as Node prints addresses everywhere else (inet_ntop)
}

export function parsePrefixLen(name: string, value: unknown, family: Family): number {
  const max = family === 4 ? 32 : 128;
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw outOfRange(name, `an integer from 0 to ${max} for IPv${family}`, value);
  }
  return value;
}

export function prefixToNetmask(prefixLen: number, family: Family): string {
  const bytes = Buffer.alloc(family === 4 ? 4 : 16);
  for (let bit = 0; bit < prefixLen; bit++) bytes[bit >> 3] |= 0x80 >> (bit & 7);
  return formatIp(bytes);
}

/** Accepts "aa:bb:cc:dd:ee:ff", "aa-bb-cc-dd-ee-ff" (any case) or 6 bytes. */
export function parseMac(name: string, value: unknown): Buffer {
  if (value instanceof Uint8Array) {
    if (value.length !== 6) throw invalidArgValue(name, value, 'must be 6 bytes long');
    return Buffer.from(value);
  }
  if (typeof value !== 'string') {
    throw invalidArgType(name, 'a MAC address string ("02:00:00:00:00:01") or 6 bytes', value);
  }
  if (!MAC_PATTERN.test(value)) {
    throw invalidArgValue(name, value, 'must be a MAC address such as "02:00:00:00:00:01"');
  }
  return Buffer.from(value.replace(/[:-]/g, ''), 'hex');
}

export function formatMac(bytes: Buffer | null): string {
  if (!bytes || bytes.length === 0) return '00:00:00:00:00:00';
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}
