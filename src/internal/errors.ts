// Errors in Node's own shapes: argument errors are TypeError/RangeError with ERR_* codes and a
// message naming the argument and the received value; failed libioth calls are Errors with the
// errno name as `code`, a negative `errno`, `syscall`, and what the call was about.
import { getSystemErrorMap, getSystemErrorName, inspect, types } from 'node:util';

export interface IothError extends Error {
  code: string;
  errno?: number;
  syscall?: string;
  [field: string]: unknown;
}

function describe(value: unknown): string {
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

function make<E extends Error>(Ctor: new (m: string) => E, code: string, message: string): IothError {
  const error = new Ctor(message) as unknown as IothError;
  error.code = code;
  return error;
}

export function invalidArgType(name: string, expected: string, value: unknown): IothError {
  return make(TypeError, 'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. ${describe(value)}`);
}

export function invalidArgValue(name: string, value: unknown, reason: string): IothError {
  return make(TypeError, 'ERR_INVALID_ARG_VALUE',
    `The argument '${name}' ${reason}. Received ${inspect(value, { colors: false })}`);
}

export function outOfRange(name: string, range: string, value: unknown): IothError {
  return make(RangeError, 'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${inspect(value)}`);
}

export function stackClosed(what: string): IothError {
  return make(Error, 'ERR_IOTH_STACK_CLOSED',
    `Cannot ${what}: the stack is closed (create a new Stack)`);
}

const kDescription = Symbol('iothts.description');
let errnoNames: Map<number, [string, string]> | undefined;

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
