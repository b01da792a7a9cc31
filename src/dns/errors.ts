// DNS errors in node:dns's shapes: `queryA ENOTFOUND example.com` with code, syscall and hostname
// (errno too for getaddrinfo/getnameinfo, as Node sets it there). Argument errors are the shared
// ones (src/internal/errors.ts, validators.ts).
import { uvErrno, type IothError } from '../internal/errors';

/** A failure inside the resolver, before it becomes a node:dns error: just the code. */
export class DnsFailure extends Error {
  constructor(readonly code: string, readonly detail?: string) {
    super(code);
  }
}

// Node reports getaddrinfo failures with libuv's EAI_* numbers, but ENOTFOUND in place of EAI_NONAME.
const ERRNO_NAMES: Record<string, string> = {
  ENOTFOUND: 'EAI_NONAME', EAI_AGAIN: 'EAI_AGAIN', ECONNREFUSED: 'ECONNREFUSED', EINVAL: 'EINVAL',
};

function errnoOf(code: string): number | undefined {
  const name = ERRNO_NAMES[code];
  return name === undefined ? undefined : uvErrno(name);
}

/** Error like Node's DNSException: message `${syscall} ${code} ${hostname}`, then the detail if any. */
export function dnsError(code: string, syscall: string, hostname?: string, detail?: string): IothError {
  // Built field by field: the properties in the order Node's DNSException gives them.
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

