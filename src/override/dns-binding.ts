// node:dns's lookup() and lookupService() under the override stay Node's own functions (callback and
// promise styles): their checks, request objects, result shapes, errors, util.promisify, net's use of
// them and their `dns` performance entries are Node's by construction. Only the two calls they make
// into the cares_wrap binding, getaddrinfo and getnameinfo (libuv's, on the host), are answered by
// the overriding stack's resolver instead: the same hosts table, DNS servers and order rules as
// `stack.dns.lookup()`, through the stack's own sockets.
import { uvErrno } from '../internal/errors';
import type { Stack } from '../stack/stack';
import { inThisContext } from './scope-store';

type Req = {
  oncomplete(err: number, ...results: unknown[]): void;
  callback?: (err: Error) => void;
  reject?: (err: Error) => void;
};
type Binding = Record<string, unknown>;
type Fn = (...args: unknown[]) => unknown;

/** libuv's error number for `name` (e.g. EAI_NONAME), as the running Node knows it. */
function uvError(name: string): number {
  const errno = uvErrno(name);
  if (errno === undefined) throw new Error(`iothts: internal error: this Node has no ${name}`);
  return errno;
}

/** getaddrinfo's and getnameinfo's failures as libuv reports them (Node names EAI_NONAME "ENOTFOUND"). */
function uvCodeOf(err: NodeJS.ErrnoException): number | null {
  switch (err.code) {
    case 'ENOTFOUND': return uvError('EAI_NONAME');
    case 'EAI_AGAIN': return uvError('EAI_AGAIN');
    case 'EINVAL': return uvError('EINVAL');
    default: return null;
  }
}

/** A failure: libuv's number where it is one of getaddrinfo's, else the error itself (a closed stack). */
function fail(req: Req, err: NodeJS.ErrnoException): void {
  const code = uvCodeOf(err);
  if (code !== null) req.oncomplete(code);
  else if (typeof req.reject === 'function') req.reject(err);
  else if (typeof req.callback === 'function') req.callback(err);
  else req.oncomplete(uvError('EAI_FAIL'));
}

// The result order as Node passes it: a number from 22 on (0 verbatim, 1 ipv4first, 2 ipv6first),
// `verbatim` as a boolean before.
const ORDERS = ['verbatim', 'ipv4first', 'ipv6first'] as const;
const orderOf = (order: unknown) => (typeof order === 'boolean' ? (order ? 'verbatim' : 'ipv4first') : ORDERS[Number(order)] ?? 'verbatim');

/**
 * Installs the stack's getaddrinfo and getnameinfo in `cares` (the cares_wrap binding), the stack
 * `choose()` gives at each call (null: the host's, libuv's own); returns the undo. The answer comes
 * back in the caller's async context, as libuv's would (its scope's stack then connects).
 */
export function answerLookupsFrom(cares: Binding, choose: () => Stack | null): () => void {
  const saved = { getaddrinfo: cares.getaddrinfo as Fn, getnameinfo: cares.getnameinfo as Fn };
  cares.getaddrinfo = function getaddrinfo(this: unknown, ...args: [Req, string, number, number, unknown]): number {
    const [req, hostname, family, hints, order] = args;
    const stack = choose();
    if (stack === null) return Reflect.apply(saved.getaddrinfo, this, args) as number;
    // libuv refuses at once a name that does not fit its buffer (Node then reports it from nextTick).
    if (Buffer.byteLength(hostname) > 255) return uvError('EINVAL');
    const options = { family, hints, all: true as const, order: orderOf(order) };
    const done = (err: NodeJS.ErrnoException | null, list: Array<{ address: string }>): void => {
      if (err) fail(req, err);
      else req.oncomplete(0, list.map((a) => a.address));
    };
    stack.dns.lookup(hostname, options, inThisContext(done));
    return 0;
  };
  cares.getnameinfo = function getnameinfo(this: unknown, ...args: [Req, string, number]): number {
    const [req, address, port] = args;
    const stack = choose();
    if (stack === null) return Reflect.apply(saved.getnameinfo, this, args) as number;
    const done = (err: NodeJS.ErrnoException | null, hostname?: string, service?: string): void => {
      if (err) fail(req, err);
      else req.oncomplete(0, hostname, service);
    };
    stack.dns.lookupService(address, port, inThisContext(done));
    return 0;
  };
  return () => Object.assign(cares, saved);
}
