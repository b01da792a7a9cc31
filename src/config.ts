// Configuration strings in iothconf's language ("eth,ip=10.0.0.1/24,gw=10.0.0.254,dns=10.0.0.53"):
// parsed with iothconf's separators and quoting, then applied to a stack. This covers the static
// keys; DHCP, router discovery and the rest of iothconf are not implemented yet.
import { isIP } from 'node:net';
import { nodeError } from './args';
import { IothError } from './errors';
import type { Stack } from './stack';

export interface ConfigResult {
  /** The interface configured. */
  iface: string;
  up: boolean;
  addresses: string[];
  gateways: string[];
  dns: string[];
  domains: string[];
  mac?: string;
  mtu?: number;
}

const KEYS = new Set(['iface', 'ifindex', 'eth', 'ip', 'gw', 'dns', 'domain', 'mac', 'macaddr', 'mtu']);

function bad(token: string, why: string): IothError {
  return nodeError('ERR_IOTH_CONFIG', `invalid configuration item '${token}': ${why}`);
}

/** Splits like libstropt: separators , ; space tab newline; '...' "..." and \ quote. */
export function tokenize(config: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let quote: string | null = null;
  let any = false;
  for (let i = 0; i < config.length; i++) {
    const c = config[i];
    if (c === '\\' && i + 1 < config.length) { current += config[++i]; any = true; continue; }
    if (quote) {
      if (c === quote) quote = null; else current += c;
      continue;
    }
    if (c === '"' || c === "'") { quote = c; any = true; continue; }
    if (',; \t\n'.includes(c)) {
      if (any || current) tokens.push(current);
      current = '';
      any = false;
      continue;
    }
    current += c;
  }
  if (quote) throw bad(config, `unterminated ${quote} quote`);
  if (any || current) tokens.push(current);
  return tokens;
}

/** Applies a configuration string to `stack`; errors quote the offending item. */
export function applyConfig(stack: Stack, config: string): ConfigResult {
  if (typeof config !== 'string') throw nodeError('ERR_INVALID_ARG_TYPE', 'The "config" argument must be of type string');
  const items = tokenize(config).map((token) => {
    const eq = token.indexOf('=');
    const key = eq < 0 ? token : token.slice(0, eq);
    const value = eq < 0 ? undefined : token.slice(eq + 1);
    if (!KEYS.has(key)) throw bad(token, `unknown key '${key}' (known: ${[...KEYS].join(', ')})`);
    if ((key === 'eth') !== (value === undefined)) throw bad(token, key === 'eth' ? 'takes no value' : 'needs a value');
    // Every value is checked before anything is applied: a bad item leaves the stack untouched.
    const v = value ?? '';
    if (key === 'ifindex' && !/^\d+$/.test(v)) throw bad(token, 'must be an interface index');
    if (key === 'mtu' && !/^\d+$/.test(v)) throw bad(token, 'must be a number');
    if (key === 'ip') {
      const [address, len, extra] = v.split('/');
      if (!isIP(address) || extra !== undefined || (len !== undefined && !/^\d{1,3}$/.test(len))) throw bad(token, 'must be an address with an optional /prefix');
    }
    if ((key === 'gw' || key === 'dns') && !isIP(v)) throw bad(token, 'must be an IPv4 or IPv6 address');
    if (key === 'domain' && !/^[A-Za-z0-9_.-]+$/.test(v)) throw bad(token, 'must be a domain name');
    return { token, key, value: v };
  });
  const result: ConfigResult = { iface: 'vde0', up: false, addresses: [], gateways: [], dns: [], domains: [] };
  let ifindex = 0;
  for (const { key, value } of items) {
    if (key === 'iface') result.iface = value;
    if (key === 'ifindex') ifindex = Number(value);
  }
  const at = (token: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      const e = err as IothError;
      e.message = `${e.message} (configuration item '${token}')`;
      throw e;
    }
  };
  let index = 0;
  at(ifindex ? `ifindex=${ifindex}` : `iface=${result.iface}`, () => {
    index = ifindex || stack.ifNameToIndex(result.iface);
    if (ifindex) result.iface = stack.ifIndexToName(index);
  });
  // Order as iothconf: link settings, link up, addresses, routes; DNS last.
  for (const { token, key, value } of items) {
    if (key === 'mac' || key === 'macaddr') at(token, () => { stack.linkSetAddr(index, value); result.mac = stack.linkGetAddr(index); });
    if (key === 'mtu') {
      at(token, () => stack.linkSetMtu(index, Number(value)));
      result.mtu = Number(value);
    }
  }
  if (items.some((i) => i.key === 'eth')) {
    stack.linkSetUpDown(index, true);
    result.up = true;
  }
  for (const { token, value } of items.filter((i) => i.key === 'ip')) {
    const [address, len] = value.split('/');
    const prefix = len === undefined ? (isIP(address) === 4 ? 24 : 64) : Number(len); // iothconf's defaults
    at(token, () => stack.ipAddrAdd(address, prefix, index));
    result.addresses.push(`${address}/${prefix}`);
  }
  for (const { token, value } of items.filter((i) => i.key === 'gw')) {
    at(token, () => stack.ipRouteAdd(value));
    result.gateways.push(value);
  }
  for (const { key, value } of items) {
    if (key === 'dns') result.dns.push(value);
    if (key === 'domain') result.domains.push(value);
  }
  if (result.dns.length) stack.dns.setServers([...stack.dns.getServers(), ...result.dns]);
  if (result.domains.length) stack.dns.setSearch([...stack.dns.getSearch(), ...result.domains]);
  return result;
}
