// Errors in Node's own shapes: argument errors are TypeError/RangeError with ERR_* codes and a
// message naming the argument and the received value; failed libioth calls are Errors with the
// errno name as `code`, a negative `errno`, `syscall`, and what the call was about.
import { getSystemErrorMap, getSystemErrorName, inspect, types } from 'node:util';
import { nodeReceived } from './node-reference';

/**
 * The errors iothts throws: `code` always; `errno` and `syscall` for failed system calls; fields
 * such as `address`, `ifindex`.
 */
export interface IothError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
  [field: string]: unknown;
}

/**
 * "Received ..." as Node's argument errors describe a value: the running Node's own words, ours
 * where its validator says nothing usable (Node 20 and 22 crash on an object whose `constructor`
 * is not an object).
 */
export function describe(value: unknown): string {
  const theirs = nodeReceived(value);
  if (theirs !== undefined) return theirs;
  if (value === null || value === undefined) return `Received ${value}`;
  if (typeof value === 'function') return `Received function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    return name ? `Received an instance of ${name}` : `Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 40) shown = `${shown.slice(0, 37)}...`;
  return `Received type ${typeof value} (${shown})`;
}

/**
 * Every ERR_IOTH_* code iothts throws, and what it means: the one list (docs/api/errors.md shows it,
 * and a test holds the two together). Node's own codes (ERR_INVALID_ARG_TYPE, ...) and errno names
 * (EINVAL, ...) are used where Node would use them.
 */
export const codes = {
  ERR_IOTH_ADDON: 'the native addon cannot load: libioth is missing (the message names the packages), or no addon fits this machine',
  ERR_IOTH_CONFIG: 'a configuration string (stack.config(), IOTH_CONFIG) has an item that is not valid; nothing was applied',
  ERR_IOTH_DHCP_REFUSED: 'the DHCP server refused (DHCPNAK) the address it had offered, twice',
  ERR_IOTH_DUPLICATE_ADDRESS: 'IPv6 duplicate address detection found another node using the address',
  ERR_IOTH_OVERRIDE: 'override() (or the hook) cannot take over the process: host sockets already open, another override, or no access to Node\'s socket handles',
  ERR_IOTH_SCOPE_WORKER: 'a Worker cannot start inside a scope (stack.run(), runOnHost()) whose network is not the process default\'s: start it outside and give it the stack',
  ERR_IOTH_STACK_BORROWED: 'a child process uses its parent\'s stack: configuring it (and its TCP listing) is for the process that owns it',
  ERR_IOTH_STACK_CLOSED: 'the stack was closed (by close(), or by the thread that owns it): create a new Stack',
} as const;

export type IothErrorCode = keyof typeof codes;

type ErrorClass = new (message: string) => Error;

/** The one way iothts makes an error with a code (of Node's, an errno name, or ERR_IOTH_*). */
export function codedError(code: string, message: string, Class: ErrorClass = Error,
  fields: Record<string, unknown> = {}): IothError {
  const error = new Class(message) as IothError;
  error.code = code;
  return Object.assign(error, fields);
}

/** An error of iothts's own (codes above). */
export function iothError(code: IothErrorCode, message: string, fields?: Record<string, unknown>): IothError {
  return codedError(code, message, Error, fields);
}

// Node says "property" rather than "argument" for a dotted name such as options.family.
const kind = (name: string) => (name.includes('.') ? 'property' : 'argument');

export function invalidArgType(name: string, expected: string, value: unknown): IothError {
  return codedError('ERR_INVALID_ARG_TYPE', `The "${name}" ${kind(name)} must be ${expected}. ${describe(value)}`, TypeError);
}

export function invalidArgValue(name: string, value: unknown, reason: string): IothError {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;  // as Node cuts it (20 to 26)
  return codedError('ERR_INVALID_ARG_VALUE', `The ${kind(name)} '${name}' ${reason}. Received ${shown}`, TypeError);
}

// 5_000_000_000: Node's ERR_OUT_OF_RANGE groups the characters of integers beyond 2 ** 32 by three
// from the right (20 to 26; 1e+21 becomes 1e_+21 there too).
function groupDigits(text: string): string {
  const start = text.startsWith('-') ? 1 : 0;
  let end = text.length;
  let tail = '';
  for (; end >= start + 4; end -= 3) tail = `_${text.slice(end - 3, end)}${tail}`;
  return text.slice(0, end) + tail;
}

/** "Received ..." of ERR_OUT_OF_RANGE, as Node writes it. */
export function receivedInRange(value: unknown): string {
  if (Number.isInteger(value) && Math.abs(value as number) > 2 ** 32) return groupDigits(String(value));
  if (typeof value === 'bigint') return `${value > 2n ** 32n || value < -(2n ** 32n) ? groupDigits(String(value)) : String(value)}n`;
  return inspect(value);
}

export function outOfRange(name: string, range: string, value: unknown): IothError {
  return codedError('ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${receivedInRange(value)}`, RangeError);
}

export function missingArgs(...names: string[]): IothError {
  const quoted = names.map((n) => `"${n}"`);
  const list = quoted.length > 2 ? `${quoted.slice(0, -1).join(', ')}, and ${quoted.at(-1)}` : quoted.join(' and ');
  return codedError('ERR_MISSING_ARGS', `The ${list} arguments must be specified`, TypeError);
}

export function invalidIpAddress(value: string): IothError {
  return codedError('ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${value}`, TypeError);
}

/** ERR_SOCKET_BAD_PORT, with "Received ..." as Node's argument errors say it. */
export function socketBadPort(name: string, value: unknown): IothError {
  return codedError('ERR_SOCKET_BAD_PORT', `${name} should be >= 0 and < 65536. ${describe(value)}.`, RangeError);
}

export function stackClosed(what: string): IothError {
  return iothError('ERR_IOTH_STACK_CLOSED', `Cannot ${what}: the stack is closed (create a new Stack)`);
}

const kDescription = Symbol('iothts.description');
let errnoNames: Map<number, [string, string]> | undefined;
let errnoNumbers: Map<string, number> | undefined;

/** libuv's (negative) error number for `name` (EINVAL, EAI_NONAME, ...) as the running Node knows it. */
export function uvErrno(name: string): number | undefined {
  errnoNames ??= getSystemErrorMap();
  errnoNumbers ??= new Map([...errnoNames].map(([errno, [n]]) => [n, errno]));
  return errnoNumbers.get(name);
}

/**
 * A failed system call in Node's shape: `code` (the errno's name), a negative `errno`, `syscall`,
 * and the message `<syscall> <code>: <description>`, then ` (<context>)` and `: <hint>` when given.
 * Every system error iothts reports is written here, from these fields.
 */
export function systemError(errno: number, code: string, syscall: string, description: string,
  context?: string, hint?: string): IothError {
  const error = new Error(
    `${syscall} ${code}: ${description}${context ? ` (${context})` : ''}${hint ? `: ${hint}` : ''}`) as IothError;
  error.code = code;
  error.errno = errno;
  error.syscall = syscall;
  // Kept (hidden) for withContext, so that a message is never parsed back into its parts.
  Object.defineProperty(error, kDescription, { value: description });
  return error;
}

/**
 * The addon's system error (errno, syscall, strerror's text as message, and the C library's name of
 * the errno) as a system error in Node's shape; anything else unchanged. The code is Node's name of
 * the errno (ENOTSUP, not EOPNOTSUPP), or the C library's where Node has none (EUSERS).
 */
export function fromNative(err: unknown): unknown {
  const e = err as { errno?: unknown; syscall?: unknown; code?: unknown; errnoName?: unknown };
  // (isNativeError, not instanceof: the addon's errors may come from another realm, e.g. under jest.)
  if (!types.isNativeError(err) || typeof e.errno !== 'number' || typeof e.syscall !== 'string' || e.code !== undefined) {
    return err;
  }
  errnoNames ??= getSystemErrorMap();
  const code = errnoNames.get(e.errno)?.[0] ?? (typeof e.errnoName === 'string' ? e.errnoName : getSystemErrorName(e.errno));
  return systemError(e.errno, code, e.syscall, err.message);
}

/**
 * Re-throws a failed native call with the context that makes it actionable. Argument errors from
 * the addon pass through unchanged; system errors get `context` appended to the message, plus
 * `fields` as properties (`fields.syscall` also names the call in the message).
 */
export function withContext(err: unknown, context: string, fields: Record<string, unknown> = {},
  hint?: string): IothError {
  const e = fromNative(err) as IothError; // a no-op for errors from src/internal/native.ts, shaped already
  if (typeof e?.errno !== 'number' || typeof e.syscall !== 'string') return e;
  const syscall = typeof fields.syscall === 'string' ? fields.syscall : e.syscall;
  const description = (e as { [kDescription]?: string })[kDescription] ?? e.message;
  const error = systemError(e.errno, e.code, syscall, description, context, hint);
  Object.assign(error, fields);
  return error;
}
