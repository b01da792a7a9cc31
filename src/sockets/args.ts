// Argument normalisation as node:net and node:dgram do it, for the stack-bound subclasses that
// must see the same argument forms before handing them to Node.

export interface NetOptions {
  port?: unknown;
  host?: string;
  path?: string;
  fd?: number;
  handle?: unknown;
  _handle?: unknown;
  backlog?: number;
  exclusive?: boolean;
  ipv6Only?: boolean;
  lookup?: unknown;
  [key: string]: unknown;
}

const isPipeName = (s: unknown): s is string => typeof s === 'string' && !/^\s*\d+\s*$/.test(s) && Number.isNaN(Number(s));

/** node:net's normalizeArgs: (options[, cb]), (path[, cb]) or (port[, host][, cb]). */
export function normalizeNetArgs(args: unknown[]): [NetOptions, ((...a: unknown[]) => void) | null] {
  if (args.length === 0) return [{}, null];
  const first = args[0];
  let options: NetOptions = {};
  if (typeof first === 'object' && first !== null) {
    options = first as NetOptions;
  } else if (isPipeName(first)) {
    options.path = first;
  } else {
    options.port = first;
    if (args.length > 1 && typeof args[1] === 'string') options.host = args[1];
  }
  const cb = args[args.length - 1];
  return [options, typeof cb === 'function' ? (cb as (...a: unknown[]) => void) : null];
}
