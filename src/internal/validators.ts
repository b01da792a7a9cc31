// Argument checks with Node's names (lib/internal/validators.js): each returns the value it
// accepted, typed, or throws Node's error for it (src/internal/errors.ts writes them). The one set
// every layer uses, so a check and its message exist once.
import { invalidArgType, invalidArgValue, outOfRange, socketBadPort } from './errors';

/** A string, or ERR_INVALID_ARG_TYPE ("of type string", or the form given). */
export function validateString(value: unknown, name: string, expected = 'of type string'): string {
  if (typeof value !== 'string') throw invalidArgType(name, expected, value);
  return value;
}

/** A string libioth's calls can take: non-empty, no NUL byte, at most 4096 bytes. `what` says what it names. */
export function validateText(value: unknown, name: string, what: string): string {
  validateString(value, name, `of type string (${what})`);
  const text = value as string;
  if (text.length === 0) throw invalidArgValue(name, value, `must be a non-empty ${what}`);
  if (text.includes('\0')) throw invalidArgValue(name, value, 'must not contain NUL bytes');
  if (Buffer.byteLength(text) > 4096) throw invalidArgValue(name, value, 'must be at most 4096 bytes');
  return text;
}

export function validateBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
  return value;
}

export function validateFunction<F>(value: F | unknown, name: string): F {
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value);
  return value as F;
}

export function validateObject<T extends object>(value: unknown, name: string): T {
  if (value === null || typeof value !== 'object') throw invalidArgType(name, 'of type object', value);
  return value as T;
}

/**
 * An integer from `min` to `max`: ERR_INVALID_ARG_TYPE when it is no number (`expected` says what
 * it should be), else ERR_OUT_OF_RANGE "an integer from min to max" (and the unit, if any).
 */
export function validateInteger(value: unknown, name: string, min: number, max: number,
  { expected = 'of type number', unit }: { expected?: string; unit?: string } = {}): number {
  if (typeof value !== 'number') throw invalidArgType(name, expected, value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, `an integer from ${min} to ${max}${unit ? ` (${unit})` : ''}`, value);
  }
  return value;
}

/**
 * validateOneOf: ERR_INVALID_ARG_VALUE listing the allowed values; `asNode` gives the running
 * Node's own error for the value where its wording differs between releases.
 */
export function validateOneOf<T>(value: unknown, name: string, allowed: readonly T[],
  asNode?: (value: unknown) => Error | undefined): T {
  if (allowed.includes(value as T)) return value as T;
  const theirs = asNode?.(value);
  if (theirs) throw theirs;
  const list = allowed.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');
  throw invalidArgValue(name, value, `must be one of: ${list}`);
}

/** validatePort: a number or a numeric string from 0 to 65535, else ERR_SOCKET_BAD_PORT. */
export function validatePort(value: unknown, name = 'Port'): number {
  // Number() only of a number or a non-blank string (of a huge array it would join billions of items).
  const n = typeof value === 'number' || (typeof value === 'string' && value.trim() !== '') ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw socketBadPort(name, value);
  return n;
}

/** The kernel's limit on an interface name, with its NUL. */
export const IFNAMSIZ = 16;

/** An interface name as the kernel takes it: non-empty, no NUL, fewer than IFNAMSIZ bytes. */
export function validateIfname(value: unknown, name: string): string {
  const text = validateText(value, name, 'interface name');
  if (Buffer.byteLength(text) >= IFNAMSIZ) throw invalidArgValue(name, value, `must be at most ${IFNAMSIZ - 1} bytes (IFNAMSIZ)`);
  return text;
}

/** "02:00:00:00:00:01" or "02-00-00-00-00-01", one separator throughout. */
export const MAC_PATTERN = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

/** A DNS name as a host or search domain: dot-separated labels of letters, digits, - and _. */
export function isDomainName(name: string): boolean {
  const labels = name.replace(/\.$/, '').split('.');
  return name.length > 0 && name.length <= 253 && labels.every((l) => /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(l));
}
