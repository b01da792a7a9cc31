// Errors in Node's own shapes: argument errors are TypeError/RangeError with ERR_* codes and a
// message naming the argument and the received value; failed libioth calls are Errors with the
// errno name as `code`, a negative `errno`, `syscall`, and what the call was about.
import { getSystemErrorName, inspect } from 'node:util';

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

/**
 * Re-throws a failed native call with the context that makes it actionable. Argument errors from
 * the addon pass through unchanged; system errors get Node's errno name (ENOTSUP, not EOPNOTSUPP)
 * and `context` appended to the message, plus `fields` as properties.
 */
export function withContext(err: unknown, context: string, fields: Record<string, unknown> = {},
  hint?: string): IothError {
  const e = err as IothError;
  if (typeof e?.errno !== 'number' || typeof e.syscall !== 'string') return e;
  const code = getSystemErrorName(e.errno);
  const detail = e.message.replace(/^\S+ \S+: /, '');
  const error = new Error(
    `${e.syscall} ${code}: ${detail} (${context})${hint ? `: ${hint}` : ''}`) as IothError;
  error.code = code;
  error.errno = e.errno;
  error.syscall = e.syscall;
  Object.assign(error, fields);
  return error;
}
