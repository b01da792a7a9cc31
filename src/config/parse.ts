// The iothconf language: "eth,ip=10.0.0.1/24,gw=10.0.0.254" or "auto,fqdn=host.example". Tokens are
// split as libstropt does; every item is checked here, before anything touches a stack, so a bad
// string leaves the stack as it was and the error quotes the offending item.
import { isIP } from '../internal/ip-syntax';
import { codedError, invalidArgType, type IothError } from '../internal/errors';
import { isDomainName, MAC_PATTERN } from '../internal/validators';

/** How an interface gets configured: each method's contribution is tracked apart. */
export type Method = 'static' | 'eth' | 'dhcp4' | 'dhcp6' | 'rd';

export interface StaticItems {
  ip: { address: string; prefixLen: number; token: string }[];
  gw: { address: string; token: string }[];
  dns: string[];
  domain: string[];
}

export interface ConfigPlan {
  stack?: string;
  vnl?: string;
  iface?: string;
  ifindex?: number;
  fqdn?: string;
  mac?: string;
  mtu?: number;
  /** Methods asked for by name: each must succeed. */
  required: Set<Method>;
  /** Methods asked for through auto, auto4, auto6: best effort, at least one must succeed. */
  optional: Set<Method>;
  slaac: boolean;
  /** iothts's own key: the string's IPv6 ip= addresses skip duplicate address detection. */
  nodad: boolean;
  /** The undo forms (-dhcp, -all, ...): what to take back before applying the rest. */
  clean: Set<Method>;
  add: StaticItems;
  del: StaticItems;
  debug: boolean;
}

export function configError(token: string, why: string): IothError {
  return codedError('ERR_IOTH_CONFIG', `invalid configuration item '${token}': ${why}`);
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
  if (quote) throw configError(config, `unterminated ${quote} quote`);
  if (any || current) tokens.push(current);
  return tokens;
}

// Keys without a value, and what each asks for (iothconf's synonyms included).
const FLAGS: Record<string, { required?: Method[]; optional?: Method[]; clean?: Method[] }> = {
  eth: { required: ['eth'] },
  dhcp: { required: ['dhcp4'] }, dhcp4: { required: ['dhcp4'] }, dhcpv4: { required: ['dhcp4'] },
  dhcp6: { required: ['dhcp6'] }, dhcpv6: { required: ['dhcp6'] },
  rd: { required: ['rd'] }, rd6: { required: ['rd'] },
  auto: { required: ['eth'], optional: ['dhcp4', 'dhcp6', 'rd'] },
  auto4: { required: ['eth'], optional: ['dhcp4'] }, autov4: { required: ['eth'], optional: ['dhcp4'] },
  auto6: { required: ['eth'], optional: ['dhcp6', 'rd'] }, autov6: { required: ['eth'], optional: ['dhcp6', 'rd'] },
  '-static': { clean: ['static'] },
  '-eth': { clean: ['eth'] },
  '-dhcp': { clean: ['dhcp4'] }, '-dhcp4': { clean: ['dhcp4'] }, '-dhcpv4': { clean: ['dhcp4'] },
  '-dhcp6': { clean: ['dhcp6'] }, '-dhcpv6': { clean: ['dhcp6'] },
  '-rd': { clean: ['rd'] }, '-rd6': { clean: ['rd'] },
  '-auto': { clean: ['eth', 'dhcp4', 'dhcp6', 'rd'] }, '-all': { clean: ['eth', 'dhcp4', 'dhcp6', 'rd'] },
  '-auto4': { clean: ['eth', 'dhcp4'] }, '-autov4': { clean: ['eth', 'dhcp4'] },
  '-auto6': { clean: ['eth', 'dhcp6', 'rd'] }, '-autov6': { clean: ['eth', 'dhcp6', 'rd'] },
};
const VALUED = ['stack', 'vnl', 'iface', 'ifindex', 'fqdn', 'mac', 'macaddr', 'mtu', 'ip', 'gw', 'dns', 'domain',
  '-ip', '-gw', '-dns', '-domain'];
export const KNOWN_KEYS = [...Object.keys(FLAGS), 'slaac', 'nodad', 'debug', ...VALUED];

/** An address without a zone ("%vde0"): the interface comes from iface= / ifindex=. */
const isAddress = (v: string) => !v.includes('%') && isIP(v) !== 0;



/**
 * Parses and checks a configuration string. `stack=` and `vnl=` belong to Stack.fromConfig only
 * (`allowStack`), as they do to ioth_newstackc.
 */
export function parseConfig(config: string, allowStack: boolean): ConfigPlan {
  if (typeof config !== 'string') throw invalidArgType('config', 'of type string', config);
  const plan: ConfigPlan = {
    required: new Set(), optional: new Set(), slaac: false, nodad: false, clean: new Set(), debug: false,
    add: { ip: [], gw: [], dns: [], domain: [] }, del: { ip: [], gw: [], dns: [], domain: [] },
  };
  for (const token of tokenize(config)) {
    const eq = token.indexOf('=');
    const key = eq < 0 ? token : token.slice(0, eq);
    const value = eq < 0 ? undefined : token.slice(eq + 1);
    if (!KNOWN_KEYS.includes(key)) throw configError(token, `unknown key '${key}' (known: ${KNOWN_KEYS.join(', ')})`);
    if (!VALUED.includes(key)) {
      if (value !== undefined) throw configError(token, `'${key}' takes no value`);
      if (key === 'slaac') plan.slaac = true;
      else if (key === 'nodad') plan.nodad = true;
      else if (key === 'debug') plan.debug = true;
      else {
        const flag = FLAGS[key];
        for (const m of flag.required ?? []) plan.required.add(m);
        for (const m of flag.optional ?? []) plan.optional.add(m);
        for (const m of flag.clean ?? []) plan.clean.add(m);
      }
      continue;
    }
    if (value === undefined || value === '') throw configError(token, `'${key}' needs a value`);
    const undo = key.startsWith('-');
    const items = undo ? plan.del : plan.add;
    switch (key.replace(/^-/, '')) {
      case 'stack':
      case 'vnl':
        if (!allowStack) throw configError(token, `'${key}' chooses the stack and its network: it belongs to Stack.fromConfig(), not to stack.config()`);
        plan[key as 'stack' | 'vnl'] = value;
        break;
      case 'iface':
        if (Buffer.byteLength(value) > 15 || /[\s/\0]/.test(value)) throw configError(token, 'must be an interface name (at most 15 bytes, no spaces or /)');
        plan.iface = value;
        break;
      case 'ifindex':
        if (!/^\d{1,9}$/.test(value) || Number(value) === 0) throw configError(token, 'must be an interface index (a positive integer)');
        plan.ifindex = Number(value);
        break;
      case 'fqdn':
        if (!isDomainName(value)) throw configError(token, 'must be a fully qualified domain name such as host.example.org');
        plan.fqdn = value.replace(/\.$/, '');
        break;
      case 'mac':
      case 'macaddr':
        if (!MAC_PATTERN.test(value)) throw configError(token, 'must be a MAC address such as 02:00:00:00:00:01');
        plan.mac = value;
        break;
      case 'mtu':
        if (!/^\d{1,5}$/.test(value) || Number(value) < 68 || Number(value) > 65535) throw configError(token, 'must be a number from 68 to 65535');
        plan.mtu = Number(value);
        break;
      case 'ip': {
        const [address, len, extra] = value.split('/');
        const family = isAddress(address) ? isIP(address) : 0;
        const max = family === 4 ? 32 : 128;
        if (!family || extra !== undefined || (len !== undefined && !/^\d{1,3}$/.test(len))) throw configError(token, 'must be an address with an optional /prefix, such as 10.0.0.1/24 or fd00::1/64');
        if (len !== undefined && (Number(len) < 1 || Number(len) > max)) throw configError(token, `the prefix length must be from 1 to ${max}`);
        // iothconf's defaults: /24 for IPv4, /64 for IPv6.
        items.ip.push({ address, prefixLen: len === undefined ? (family === 4 ? 24 : 64) : Number(len), token });
        break;
      }
      case 'gw':
        if (!isAddress(value)) throw configError(token, 'must be an IPv4 or IPv6 address');
        items.gw.push({ address: value, token });
        break;
      case 'dns':
        if (!isAddress(value)) throw configError(token, 'must be an IPv4 or IPv6 address');
        items.dns.push(value);
        break;
      case 'domain':
        if (!isDomainName(value)) throw configError(token, 'must be a domain name such as example.org');
        items.domain.push(value.replace(/\.$/, ''));
        break;
    }
  }
  if (plan.add.ip.length + plan.add.gw.length + plan.add.dns.length + plan.add.domain.length +
    plan.del.ip.length + plan.del.gw.length + plan.del.dns.length + plan.del.domain.length > 0) plan.required.add('static');
  if (plan.nodad && !plan.add.ip.some((a) => isIP(a.address) === 6)) {
    throw configError('nodad', 'it makes the IPv6 addresses of ip= items skip duplicate address detection, and there are none: add one (ip=fd00::1/64), or drop nodad');
  }
  if (plan.slaac && !plan.required.has('rd') && !plan.optional.has('rd')) throw configError('slaac', "stateless autoconfiguration needs router discovery: add 'rd' (or 'auto', 'auto6')");
  return plan;
}
