// Configuration strings in iothconf's language ("eth,ip=10.0.0.1/24,gw=10.0.0.254,dns=10.0.0.53"):
// parsed with iothconf's separators and quoting, then applied to a stack. This covers the static
// keys; DHCP, router discovery and the rest of iothconf are not implemented yet.
import { isIP } from 'node:net';
import { parseMac } from './address';
import { nodeError } from './args';
import { invalidArgType, IothError } from './errors';
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

function isMac(value: string): boolean {
  try {
    parseMac('mac', value);
    return true;
  } catch {
    return false;
  }
}

/** Applies a configuration string to `stack`; errors quote the offending item. */
export function applyConfig(stack: Stack, config: string): ConfigResult {
  if (typeof config !== 'string') throw invalidArgType('config', 'of type string', config);
  const items = tokenize(config).map((token) => {
    const eq = token.indexOf('=');
    const key = eq < 0 ? token : token.slice(0, eq);
    const value = eq < 0 ? undefined : token.slice(eq + 1);
    if (!KEYS.has(key)) throw bad(token, `unknown key '${key}' (known: ${[...KEYS].join(', ')})`);
    if ((key === 'eth') !== (value === undefined)) throw bad(token, key === 'eth' ? 'takes no value' : 'needs a value');
    // Every value is checked before anything is applied: a bad item leaves the stack untouched.
    const v = value ?? '';
    // (The ranges are those of the calls that apply them: a value they would refuse is refused here.)
    if (key === 'iface' && (v === '' || Buffer.byteLength(v) > 15 || v.includes('\0'))) throw bad(token, 'must be an interface name of 1 to 15 bytes');
    if (key === 'ifindex' && !(/^\d+$/.test(v) && Number(v) <= 0x7fffffff)) throw bad(token, 'must be an interface index');
    if (key === 'mtu' && !(/^\d+$/.test(v) && Number(v) >= 68 && Number(v) <= 65535)) throw bad(token, 'must be an MTU from 68 to 65535');
    if (key === 'ip') {
      const [address, len, extra] = v.split('/');
      const max = isIP(address) === 4 ? 32 : 128;
      if (!isIP(address) || address.includes('%') || extra !== undefined || (len !== undefined && !(/^\d{1,3}$/.test(len) && Number(len) <= max))) {
        throw bad(token, 'must be an address with an optional /prefix');
      }
    }
    if ((key === 'gw' || key === 'dns') && !(isIP(v) && (key === 'dns' || !v.includes('%')))) throw bad(token, 'must be an IPv4 or IPv6 address');
    if ((key === 'mac' || key === 'macaddr') && !isMac(v)) throw bad(token, 'must be a MAC address such as 02:00:00:00:00:01');
    // As stack.dns.setSearch() takes it: labels of 1 to 63 characters, not starting with '-'.
    if (key === 'domain' && !/^(?!-)[A-Za-z0-9_-]{1,63}(?:\.[A-Za-z0-9_-]{1,63})*$/.test(v.replace(/^\.|\.$/g, ''))) {
      throw bad(token, 'must be a domain name');
    }
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
