// The hosts table, consulted before DNS by lookup, lookupService and reverse, like /etc/hosts:
// a hosts file's entries (the host's /etc/hosts for a stack; the loopback names when there is no
// file to read), then the stack's own names (transport.hosts()), then entries the user adds.
import { isIP } from 'node:net';
import { parseIp } from '../internal/address';
import { invalidArgType, invalidArgValue } from '../internal/errors';
import { hostsFileReader } from './hosts-file';


export interface HostEntry {
  name: string;
  address: string;
  family: 4 | 6;
}

const LOOPBACK: readonly HostEntry[] = [
  { name: 'localhost', address: '127.0.0.1', family: 4 },
  { name: 'localhost', address: '::1', family: 6 },
  { name: 'ip6-localhost', address: '::1', family: 6 },
  { name: 'ip6-loopback', address: '::1', family: 6 },
];

/** Host names compare without case and without a trailing dot. */
function key(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

function entry(name: unknown, address: unknown): HostEntry {
  if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
  if (!/^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/.test(name) || name.includes('..')) {
    throw invalidArgValue('name', name, 'must be a host name such as "db.example"');
  }
  if (typeof address !== 'string') throw invalidArgType('address', 'of type string', address);
  const ip = parseIp('address', address); // canonical text, so lookups compare equal
  return { name: key(name), address: ip.text, family: ip.family };
}

/** The entries that are valid, in order: a bad line of a file or name of a stack must not break every lookup. */
function valid(list: Array<{ name: string; address: string }>): HostEntry[] {
  return list.flatMap(({ name, address }) => {
    try {
      return [entry(name, address)];
    } catch {
      return [];
    }
  });
}

export class HostsTable {
  #added: HostEntry[] = [];
  readonly #own: () => Array<{ name: string; address: string }>;
  readonly #file: (() => Array<{ name: string; address: string }> | null) | null;
  // The file's entries checked once per reading of it (a hosts file may hold 100,000 lines).
  #checked: { read: Array<{ name: string; address: string }>; entries: HostEntry[] } | null = null;

  /** `file`: a hosts file to start from (read again when it changes); none: the loopback names. */
  constructor(own?: () => Array<{ name: string; address: string }>, file?: string | null) {
    this.#own = own ?? (() => []);
    this.#file = file ? hostsFileReader(file) : null;
  }

  /** Adds `name` → `address` (after the entries already there). */
  add(name: string, address: string): void {
    const e = entry(name, address);
    if (!this.#added.some((a) => a.name === e.name && a.address === e.address)) this.#added.push(e);
  }

  /** Removes what add() added for `name` (only `address` when given); true when something went. */
  delete(name: string, address?: string): boolean {
    const before = this.#added.length;
    const ip = address === undefined ? undefined : entry(name, address).address;
    this.#added = this.#added.filter((a) => a.name !== key(name) || (ip !== undefined && a.address !== ip));
    return this.#added.length !== before;
  }

  /** Every entry in table order: the file's (or the loopback names), the stack's own, added. */
  entries(): HostEntry[] {
    const read = this.#file?.();
    if (read && this.#checked?.read !== read) this.#checked = { read, entries: valid(read) };
    return [...(read ? this.#checked!.entries : LOOPBACK), ...valid(this.#own()), ...this.#added];
  }

  /** The addresses of `name`, in table order, without repeats. */
  addresses(name: string): HostEntry[] {
    const k = key(name);
    const seen = new Set<string>();
    return this.entries().filter((e) => e.name === k && !seen.has(e.address) && seen.add(e.address));
  }

  /** The names of `address`, in table order, without repeats. */
  names(address: string): string[] {
    if (!isIP(address) || address.includes('%')) return [];
    const text = parseIp('address', address).text;
    return [...new Set(this.entries().filter((e) => e.address === text).map((e) => e.name))];
  }
}
