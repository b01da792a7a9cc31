// DNS errors in node:dns's shapes: `queryA ENOTFOUND example.com` with code, syscall and hostname
// (errno too for getaddrinfo/getnameinfo, as Node sets it there), plus the few argument errors of
// node:dns that src/internal/errors.ts has no helper for.
import { getSystemErrorMap } from 'node:util';
import { describe, invalidArgType, invalidArgValue, IothError } from '../internal/errors';

/** A failure inside the resolver, before it becomes a node:dns error: just the code. */
export class DnsFailure extends Error {
  constructor(readonly code: string, readonly detail?: string) {
    super(code);
  }
}

// Node reports getaddrinfo failures with libuv's EAI_* numbers, but ENOTFOUND in place of EAI_NONAME.
const ERRNO_NAMES: Record<string, string> = { ENOTFOUND: 'EAI_NONAME', EAI_AGAIN: 'EAI_AGAIN', ECONNREFUSED: 'ECONNREFUSED' };

function errnoOf(code: string): number | undefined {
  const name = ERRNO_NAMES[code];
  for (const [errno, [n]] of getSystemErrorMap()) if (n === name) return errno;
  return undefined;
}

/** Error like Node's DNSException: message `${syscall} ${code} ${hostname}`, then the detail if any. */
export function dnsError(code: string, syscall: string, hostname?: string, detail?: string): IothError {
  const error = new Error(`${syscall} ${code}${hostname ? ` ${hostname}` : ''}${detail ? ` (${detail})` : ''}`) as IothError;
  error.errno = syscall === 'getaddrinfo' || syscall === 'getnameinfo' ? errnoOf(code) : undefined;
  error.code = code;
  error.syscall = syscall;
  if (hostname) error.hostname = hostname;
  return error;
}

/** Turns a resolver failure into the node:dns error; other errors (a closed stack...) pass through. */
export function toDnsError(err: unknown, syscall: string, hostname: string): unknown {
  return err instanceof DnsFailure ? dnsError(err.code, syscall, hostname, err.detail) : err;
}

export const NO_SERVER = 'no DNS server is configured for this stack: pass servers to createDns() or call setServers()';

// Node says "property" rather than "argument" for dotted names such as options.family.
function asProperty<E extends IothError>(name: string, error: E): E {
  if (name.includes('.')) {
    error.message = error.message.replace(`"${name}" argument`, `"${name}" property`)
      .replace(`argument '${name}'`, `property '${name}'`);
  }
  return error;
}

export function argType(name: string, expected: string, value: unknown): IothError {
  return asProperty(name, invalidArgType(name, expected, value));
}

export function argValue(name: string, value: unknown, reason = 'is invalid'): IothError {
  return asProperty(name, invalidArgValue(name, value, reason));
}

/**
 * validateOneOf: ERR_INVALID_ARG_VALUE listing the allowed values; `asNode` gives the running Node's
 * own error for the value where its wording differs between releases.
 */
export function oneOf<T>(name: string, value: unknown, allowed: readonly T[], asNode?: (value: unknown) => Error | undefined): T {
  if (allowed.includes(value as T)) return value as T;
  const theirs = asNode?.(value);
  if (theirs) throw theirs;
  const list = allowed.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');
  throw argValue(name, value, `must be one of: ${list}`);
}

export function checkString(name: string, value: unknown): string {
  if (typeof value !== 'string') throw argType(name, 'of type string', value);
  return value;
}

export function checkFunction<F>(name: string, value: F | unknown): F {
  if (typeof value !== 'function') throw argType(name, 'of type function', value);
  return value as F;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw argType(name, 'of type boolean', value);
  return value;
}

function withCode<E extends Error>(error: E, code: string): IothError {
  (error as unknown as IothError).code = code;
  return error as unknown as IothError;
}

export function missingArgs(...names: string[]): IothError {
  const quoted = names.map((n) => `"${n}"`);
  const list = quoted.length > 2 ? `${quoted.slice(0, -1).join(', ')}, and ${quoted.at(-1)}` : quoted.join(' and ');
  return withCode(new TypeError(`The ${list} arguments must be specified`), 'ERR_MISSING_ARGS');
}

export function invalidIpAddress(value: string): IothError {
  return withCode(new TypeError(`Invalid IP address: ${value}`), 'ERR_INVALID_IP_ADDRESS');
}

/** validatePort as node:dns uses it: a number or numeric string from 0 to 65535. */
export function checkPort(value: unknown): number {
  // (Number() only of a number or a string: of a huge array it would join billions of items.)
  const n = typeof value === 'number' || typeof value === 'string' ? Number(value) : NaN;
  if ((typeof value !== 'number' && typeof value !== 'string') ||
    (typeof value === 'string' && value.trim().length === 0) || n !== n >>> 0 || n > 0xffff) {
    throw withCode(new RangeError(`Port should be >= 0 and < 65536. ${describe(value)}.`), 'ERR_SOCKET_BAD_PORT');
  }
  return n;
}
