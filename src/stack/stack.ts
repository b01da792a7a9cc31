// Stack: one virtual TCP/IP stack from a libioth plugin, attached to zero or more VDE networks
// (VNLs), with libioth's configuration calls under their libioth names in camelCase and iothpy's
// argument order (family inferred from the address), plus listings in Node's own shapes.
import * as fs from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import * as path from 'node:path';
import { Family, formatIp, formatMac, parseIp, parseMac, parsePrefixLen, prefixToNetmask } from '../internal/address';
import {
  invalidArgType, invalidArgValue, IothError, outOfRange, stackClosed, withContext,
} from '../internal/errors';
import { NativeIpv6Settings, NativeStack, native, onExitBeforeDelete } from '../internal/native';
import { createStackNet, StackNet } from '../sockets/net';
import { createStackDgram, StackDgram } from '../sockets/dgram';
import { createHttpAgent, createHttpsAgent } from '../sockets/agents';
import type * as http from 'node:http';
import type * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import { createDns, StackDns } from '../dns';
import { applyConfig, applyConfigAsync, ConfigResult, releaseAll, resolvConf, splitStackConfig } from '../config';
import { describePluginDirs, installedPlugins } from './plugins';
import { checkLinger, defaultLinger, waitUntilSent } from './linger';

/** An interface: its index (as libioth takes it) or its name ("vde0"). */
export type InterfaceRef = number | string;

export interface StackOptions {
  /** libioth plugin: "vdestack" (default), "kernel", or any installed one. */
  plugin?: string;
  /** Options for the plugin, passed after a comma as libioth expects ("plugin,options"). */
  pluginOptions?: string;
  /** One VNL or a list: one interface each (vde0, vde1, ...; "name:vnl" names it). */
  vnl?: string | readonly string[] | null;
  /** Use, from a worker thread, the stack another thread created (its `share()`), instead. */
  share?: StackShare;
  /**
   * How long, at most, close() and the process's exit wait for the stack's TCP connections to
   * deliver what they still have to send (ms; 0: never wait). Default: IOTHTS_LINGER, or 2000.
   */
  linger?: number;
}

export interface CloseOptions {
  /** This close()'s bound on waiting for ended connections to deliver their data (ms; 0: none). */
  linger?: number;
}

// The stacks this thread owns and has not closed, for the wait at process exit. Weak: a stack the
// program dropped is deleted by the garbage collector as before.
const openStacks = new Set<WeakRef<Stack>>();

/** What a worker thread needs to use a stack of another thread of the same process. */
export interface StackShare {
  id: number;
  plugin: string;
  pluginOptions: string;
  vnls: string[];
}

export interface LinkInfo {
  index: number;
  name: string;
  /** "xx:xx:xx:xx:xx:xx" */
  mac: string;
  mtu: number;
  up: boolean;
  running: boolean;
  loopback: boolean;
  /** The raw IFF_* flags. */
  flags: number;
  /**
   * The link's IPv6 settings that time duplicate address detection (its accept_dad and
   * dad_transmits sysctls; rtrSolicitDelay: the longest random wait before the first probe, ms;
   * retransTime: ms between probes), or null when the link has no IPv6.
   */
  ipv6: NativeIpv6Settings | null;
}

export interface AddressInfo {
  family: 'IPv4' | 'IPv6';
  address: string;
  prefixLen: number;
  /** address/prefixLen */
  cidr: string;
  ifindex: number;
  interface: string | null;
  scope: RouteInfo['scope'];
  /** IPv6 duplicate address detection still runs: bind() to the address fails with EADDRNOTAVAIL. */
  tentative: boolean;
  /** Duplicate address detection found another node using the address: it stays unusable. */
  dadFailed: boolean;
  /** Added with { nodad }: no duplicate address detection. */
  nodad: boolean;
  /** The raw IFA_F_* flags. */
  flags: number;
}

export interface IpAddrAddOptions {
  /**
   * Skip IPv6 duplicate address detection (IFA_F_NODAD, iproute2's `nodad`): the address is usable
   * at once. Only for an address known to be unique on its network.
   */
  nodad?: boolean;
}

export interface RouteInfo {
  family: 'IPv4' | 'IPv6';
  /** The destination network ("0.0.0.0" / "::" for a default route). */
  destination: string;
  prefixLen: number;
  /** destination/prefixLen, e.g. "10.0.0.0/24" or "default". */
  cidr: string;
  gateway: string | null;
  ifindex: number;
  interface: string | null;
  metric: number | null;
  scope: 'universe' | 'site' | 'link' | 'host' | 'nowhere';
  /** Who made the route: "kernel", "boot" (ipRouteAdd), "static", "ra" (router advertisement), "dhcp", or the number. */
  protocol: string;
}

export type SocketFamily = 4 | 6 | 'IPv4' | 'IPv6';
export type SocketKind = 'tcp' | 'udp' | 'stream' | 'dgram' | 'raw';

const SCOPES: Record<number, RouteInfo['scope']> = { 0: 'universe', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };
const ROUTE_PROTOCOLS: Record<number, string> = { 2: 'kernel', 3: 'boot', 4: 'static', 9: 'ra', 16: 'dhcp' };
const RT_TABLE_MAIN = 254;
const MAX_IFINDEX = 0x7fffffff;

function checkText(name: string, value: unknown, what: string): string {
  if (typeof value !== 'string') throw invalidArgType(name, `of type string (${what})`, value);
  if (value.length === 0) throw invalidArgValue(name, value, `must be a non-empty ${what}`);
  if (value.includes('\0')) throw invalidArgValue(name, value, 'must not contain NUL bytes');
  if (Buffer.byteLength(value) > 4096) throw invalidArgValue(name, value, 'must be at most 4096 bytes');
  return value;
}

function vnlList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [checkText('vnl', value, 'VNL such as "vxvde://234.0.0.1"')];
  if (!Array.isArray(value)) {
    throw invalidArgType('vnl', 'a VNL string, an array of VNL strings, or null', value);
  }
  if (value.length > 64) throw outOfRange('vnl.length', 'at most 64', value.length);
  return value.map((v, i) => checkText(`vnl[${i}]`, v, 'VNL such as "vxvde://234.0.0.1"'));
}

/** The interface names vdestack gives: "name:vnl" names it, otherwise vde0, vde1, ... */
function expectedInterfaces(vnls: readonly string[]): string[] {
  return vnls.map((vnl, i) => {
    const colon = vnl.indexOf(':');
    const scheme = vnl.indexOf('://');
    return colon >= 0 && (scheme < 0 || colon < scheme) ? vnl.slice(0, colon).slice(0, 15) : `vde${i}`;
  });
}

function vdeplugModules(): string {
  const dir = path.join(path.dirname(native.pluginDir()), 'vdeplug');
  try {
    return fs.readdirSync(dir).map((f) => /^libvdeplug_(\w+)\.so$/.exec(f)?.[1]).filter(Boolean)
      .concat(['vde', 'vxvde', 'udp', 'ptp', 'tap', 'hub', 'switch', 'null', 'cmd', 'seqpacket'])
      .filter((m, i, all) => all.indexOf(m) === i).sort().join(', ');
  } catch {
    return 'vde, vxvde, hub, switch, ptp, udp, null, slirp (when installed)';
  }
}

export class Stack implements Disposable {
  #net?: StackNet;
  #dgram?: StackDgram;
  #dns?: StackDns;

  /** The plugin name, without options. */
  readonly plugin: string;
  /** The plugin options given after the comma, or "". */
  readonly pluginOptions: string;
  /** The VNLs, one interface each, in order. */
  readonly vnls: readonly string[];
  /** False for a stack borrowed with `{ share }`: close() then lets go of it without deleting it. */
  readonly owner: boolean;
  #native: NativeStack | null;
  #linger: number;
  #ref?: WeakRef<Stack>;

  /**
   * new Stack(plugin = "vdestack", vnl?)  or  new Stack({ plugin, pluginOptions, vnl })
   * @example new Stack('vdestack', 'vxvde://234.0.0.1')
   */
  constructor(plugin?: string | StackOptions, vnl?: string | readonly string[] | null) {
    let options: StackOptions;
    if (plugin !== null && typeof plugin === 'object' && !Array.isArray(plugin)) {
      if (vnl !== undefined) {
        throw invalidArgValue('vnl', vnl, 'must be given inside the options object when options are used');
      }
      options = plugin;
    } else if (plugin === undefined || typeof plugin === 'string') {
      options = { plugin, vnl };
    } else {
      throw invalidArgType('plugin', 'of type string or an options object', plugin);
    }

    if (options.share !== undefined) {
      const share = options.share;
      if (options.plugin !== undefined || options.vnl !== undefined || options.pluginOptions !== undefined) {
        throw invalidArgValue('options', options, 'must hold either share or plugin/vnl, not both');
      }
      if (share === null || typeof share !== 'object' || !Number.isInteger(share.id)) {
        throw invalidArgType('options.share', 'a StackShare from stack.share()', share);
      }
      this.plugin = String(share.plugin);
      this.pluginOptions = String(share.pluginOptions ?? '');
      this.vnls = Object.freeze([...(share.vnls ?? [])].map(String));
      this.owner = false;
      this.#linger = 0;
      this.#native = new native.NativeStack(share.id);
      return;
    }
    this.owner = true;
    this.#linger = options.linger === undefined ? defaultLinger() : checkLinger('options.linger', options.linger);
    let name = checkText('plugin', options.plugin ?? 'vdestack', 'libioth plugin name');
    let pluginOptions = options.pluginOptions;
    const comma = name.indexOf(',');
    if (comma >= 0) {
      if (pluginOptions !== undefined) {
        throw invalidArgValue('plugin', name, 'must not carry ",options" when pluginOptions is given');
      }
      pluginOptions = name.slice(comma + 1);
      name = name.slice(0, comma);
    }
    // libioth makes a file name from the plugin name: only a plain name may reach it.
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      throw invalidArgValue('plugin', name, 'must be a plugin name such as "vdestack" or "kernel"');
    }
    if (pluginOptions !== undefined && pluginOptions !== '') {
      checkText('pluginOptions', pluginOptions, 'option string');
    }
    this.plugin = name;
    this.pluginOptions = pluginOptions ?? '';
    this.vnls = Object.freeze(vnlList(options.vnl));

    const spec = this.pluginOptions ? `${name},${this.pluginOptions}` : name;
    try {
      this.#native = new native.NativeStack(spec, [...this.vnls]);
    } catch (err) {
      throw this.#creationError(err);
    }
    this.#ref = new WeakRef(this);
    openStacks.add(this.#ref);
    this.#checkInterfaces();
  }

  #creationError(err: unknown): IothError {
    const e = err as IothError;
    const context = `plugin "${this.plugin}"${this.vnls.length ? `, VNL ${this.vnls.map((v) => `"${v}"`).join(' ')}` : ''}`;
    const fields = { plugin: this.plugin, vnl: [...this.vnls] };
    const code = typeof e?.errno === 'number' ? e.errno : 0;
    if (code === -95) { // ENOTSUP: dlopen found no such plugin
      const found = installedPlugins();
      return withContext(err, context, fields, found.includes(this.plugin)
        ? `libioth found ioth_${this.plugin} in ${describePluginDirs()} but could not load it (a missing library or symbol)`
        : `no libioth plugin "${this.plugin}" in ${describePluginDirs()} (installed: ${found.join(', ') || 'none'})`);
    }
    if (code === -93) { // EPROTONOSUPPORT: no vdeplug module for the VNL's scheme
      return withContext(err, context, fields,
        `unknown VNL module; a VNL is module://address[/options] with module one of ${vdeplugModules()}`);
    }
    if (this.plugin === 'vdestack' && (code === -1 || code === -28 || code === -87)) { // EPERM ENOSPC EUSERS
      return withContext(err, context, fields,
        'vdestack could not make its user and network namespace: enable unprivileged user namespaces ' +
        '(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0); a plain chroot refuses them ' +
        'too (enter it with a mount namespace and pivot_root); `iothts doctor` names the cause');
    }
    return withContext(err, context, fields, this.vnls.length
      ? 'check the VNL (e.g. "vxvde://234.0.0.1", "vde:///run/switch", "slirp://") and that its network exists'
      : undefined);
  }

  // vdestack opens its tap interfaces in its helper process and cannot report a failure there:
  // the interface is then simply missing (no /dev/net/tun, most often). Say so now.
  #checkInterfaces(): void {
    if (this.plugin !== 'vdestack' || this.vnls.length === 0) return;
    const have = new Set(this.#live('list links').links().map((l) => l.name));
    const missing = expectedInterfaces(this.vnls).filter((n) => !have.has(n));
    if (missing.length === 0) return;
    this.close();
    const error = new Error(
      `vdestack created no interface ${missing.join(', ')} for VNL ${this.vnls.join(' ')}: ` +
      `it needs /dev/net/tun${fs.existsSync('/dev/net/tun') ? ' to be usable inside a user namespace (openable by this user; `iothts doctor` tells)' : ', which is missing (modprobe tun)'}`,
    ) as IothError;
    error.code = 'ENODEV';
    throw error;
  }

  #live(what: string): NativeStack {
    if (this.#native === null) throw stackClosed(what);
    return this.#native;
  }

  /** node:net on this stack: createServer, connect, Server, Socket, ... */
  get net(): StackNet {
    return this.#net ??= createStackNet(this, () => this.#lookup());
  }

  /** node:dgram on this stack: createSocket, Socket. */
  get dgram(): StackDgram {
    return this.#dgram ??= createStackDgram(this, () => this.#lookup());
  }

  /** An http.Agent whose connections live on this stack: http.get(url, { agent }). */
  httpAgent(options?: http.AgentOptions): http.Agent {
    return createHttpAgent(this.net, options);
  }

  /** An https.Agent whose connections (TLS over TCP) live on this stack. */
  httpsAgent(options?: https.AgentOptions): https.Agent {
    return createHttpsAgent(this.net, options);
  }

  /**
   * node:dns on this stack: every query goes through the stack's own sockets to the servers set with
   * stack.dns.setServers() (none at first: nothing falls back to the host's resolver). Its lookup
   * is what stack.net and stack.dgram use for host names.
   */
  get dns(): StackDns {
    return this.#dns ??= createDns({
      udpSocket: (family) => this.dgram.createSocket(family === 6 ? 'udp6' : 'udp4'),
      tcpConnect: (ip, port) => this.net.connect({ port, host: ip }),
      interfaces: () => this.interfaces(),
    });
  }

  #lookup(): LookupFunction {
    return this.dns.lookup as unknown as LookupFunction;
  }

  /**
   * Applies a configuration string in iothconf's language and returns what the interface now holds:
   * `stack.config('eth,ip=10.0.0.1/24,gw=10.0.0.254,dns=10.0.0.53')`, `stack.config('eth,dhcp')`,
   * `stack.config('auto,fqdn=host.example.org')`. Keys: iface=, ifindex=, eth, ip=, gw=, dns=,
   * domain=, mac=, mtu=, fqdn=, dhcp, dhcp6, rd, slaac, auto, auto4, auto6, debug, and the undo
   * forms -ip=, -gw=, -dns=, -domain=, -static, -eth, -dhcp, -dhcp6, -rd, -auto4, -auto6, -all.
   * Blocks while DHCP and router discovery wait for answers (a few seconds at most), as ioth_config
   * does; configAsync() is the same without blocking. Leases are renewed while the stack lives and
   * released by close().
   */
  config(config: string): ConfigResult {
    this.#live('configure the stack');
    return applyConfig(this, config);
  }

  /** config() without blocking the thread: the protocols wait with timers. */
  configAsync(config: string): Promise<ConfigResult> {
    try {
      this.#live('configure the stack');
      return applyConfigAsync(this, config);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * A stack made and configured from one string, as ioth_newstackc does:
   * `Stack.fromConfig('stack=vdestack,vnl=slirp://,eth,dhcp')`. stack= defaults to vdestack; no
   * vnl= gives a stack with no interface but lo. If the configuration fails, the stack is closed.
   */
  static fromConfig(config: string): Stack {
    const { plugin, vnl, rest } = splitStackConfig(config);
    const stack = new Stack(plugin ?? 'vdestack', vnl ?? null);
    try {
      if (rest) stack.config(rest);
    } catch (err) {
      stack.close();
      throw err;
    }
    return stack;
  }

  /** Stack.fromConfig() without blocking the thread. */
  static async fromConfigAsync(config: string): Promise<Stack> {
    const { plugin, vnl, rest } = splitStackConfig(config);
    const stack = new Stack(plugin ?? 'vdestack', vnl ?? null);
    try {
      if (rest) await stack.configAsync(rest);
    } catch (err) {
      stack.close();
      throw err;
    }
    return stack;
  }

  /**
   * The DNS settings configuration gave the stack, as resolv.conf(5) text ("search ...",
   * "nameserver ..."), for all interfaces or one: iothconf's ioth_resolvconf.
   */
  resolvConf(iface?: InterfaceRef): string {
    this.#live('read the resolver configuration');
    return resolvConf(this, iface);
  }

  /**
   * How this stack's sockets are made on the calling thread: "setns" when the process may enter
   * the vdestack helper's network namespace (CAP_SYS_ADMIN, e.g. root), so this thread calls
   * socket(2) there itself; "helper" otherwise (libioth's ioth_msocket: a round trip to vdestack's
   * helper, or the plugin's own socket call). Both give the same sockets.
   */
  get socketPath(): 'setns' | 'helper' {
    return this.#live('look at how sockets are made').socketPath();
  }

  /** True once close() has run. */
  get closed(): boolean {
    return this.#native === null;
  }

  /**
   * The bound (ms) on waiting, in close() and at the process's exit, for the stack's TCP
   * connections to deliver what they still have to send; 0 never waits. Settable.
   */
  get linger(): number {
    return this.#linger;
  }

  set linger(ms: number) {
    this.#linger = checkLinger('linger', ms);
  }

  /**
   * Deletes the stack (ioth_delstack) and ends vdestack's helper process. Idempotent.
   * First, like the host's kernel after a close(2), it lets the connections the program has ended
   * or destroyed deliver their remaining data and FIN: it waits until the peers acknowledged them,
   * at most `options.linger` ms (default: the stack's `linger`, 2000 ms unless set); no wait when
   * there is nothing to send. Sockets already open on it stay valid descriptors but reach no
   * network any more. A borrowed stack (`{ share }`) is only let go of; its owner keeps it.
   */
  close(options?: CloseOptions): void {
    if (this.#native === null) return;
    let linger = this.#linger;
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
      if (options.linger !== undefined) linger = checkLinger('options.linger', options.linger);
    }
    if (this.owner) waitUntilSent([{ native: this.#native, linger }], false);
    releaseAll(this);
    try {
      this.#native.close();
    } catch (err) {
      throw withContext(err, `closing the ${this.plugin} stack`);
    }
    this.#native = null;
    if (this.#ref) openStacks.delete(this.#ref);
  }

  // Process exit: every open stack of this thread gets its linger, all waited for together.
  static {
    onExitBeforeDelete(() => Stack.#lingerAtExit());
  }

  static #lingerAtExit(): void {
    const waiting = [];
    for (const ref of openStacks) {
      const stack = ref.deref();
      if (stack && stack.#native && stack.owner) waiting.push({ native: stack.#native, linger: stack.#linger });
    }
    waitUntilSent(waiting, true);
    // DHCP leases are released at exit as by close() (the stacks are deleted right after).
    for (const ref of openStacks) {
      const stack = ref.deref();
      if (stack && stack.#native) releaseAll(stack);
    }
  }

  /**
   * What `new Stack({ share })` needs to use this stack from a worker thread of this process (the
   * value is structured-cloneable: pass it in workerData). Its sockets are this stack's sockets.
   */
  share(): StackShare {
    return { id: this.#live('share').shareId(), plugin: this.plugin, pluginOptions: this.pluginOptions, vnls: [...this.vnls] };
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** if_nametoindex: the index of the interface called `name`. */
  ifNameToIndex(name: string): number {
    return this.#nameToIndex('name', name);
  }

  // `argument` is the caller's name for it, so that an error names the argument given.
  #nameToIndex(argument: string, name: string): number {
    checkText(argument, name, 'interface name');
    if (Buffer.byteLength(name) > 15) throw invalidArgValue(argument, name, 'must be at most 15 bytes (IFNAMSIZ)');
    try {
      return this.#live('look up an interface').ifNameToIndex(name);
    } catch (err) {
      throw withContext(err, `no interface "${name}"`, { ifname: name });
    }
  }

  /** if_indextoname: the name of interface `index`; ENXIO when there is none. */
  ifIndexToName(index: number): string {
    const i = this.#index('index', index);
    const link = this.links().find((l) => l.index === i);
    if (!link) throw this.#noSuchIndex(i);
    return link.name;
  }

  /** if_nameindex: every interface with its index. */
  ifNameIndex(): { index: number; name: string }[] {
    return this.links().map(({ index, name }) => ({ index, name }));
  }

  /** Every interface (link) with its MAC, MTU and state. */
  links(): LinkInfo[] {
    const { IFF_UP, IFF_RUNNING, IFF_LOOPBACK } = native.constants;
    return this.#call('list links', 'links', () => this.#live('list links').links()).map((l) => ({
      index: l.index,
      name: l.name ?? '',
      mac: formatMac(l.mac),
      mtu: l.mtu ?? 0,
      up: (l.flags & IFF_UP) !== 0,
      running: (l.flags & IFF_RUNNING) !== 0,
      loopback: (l.flags & IFF_LOOPBACK) !== 0,
      flags: l.flags,
      ipv6: l.ipv6,
    }));
  }

  /** Brings an interface up (true) or down (false). */
  linkSetUpDown(ifindex: InterfaceRef, up: boolean): void {
    const i = this.resolveInterface(ifindex);
    if (typeof up !== 'boolean') throw invalidArgType('up', 'of type boolean', up);
    this.#call(`setting interface ${i} ${up ? 'up' : 'down'}`, { ifindex: i },
      () => this.#live('set a link up or down').linkSetUpDown(i, up));
  }

  /** Sets the MAC address: "02:00:00:00:00:01" (or with "-"), or 6 bytes. */
  linkSetAddr(ifindex: InterfaceRef, mac: string | Uint8Array): void {
    const i = this.resolveInterface(ifindex);
    const bytes = parseMac('mac', mac);
    this.#call(`setting MAC ${formatMac(bytes)} on interface ${i}`, { ifindex: i },
      () => this.#live('set a MAC address').linkSetAddr(i, bytes));
  }

  /** The MAC address as "xx:xx:xx:xx:xx:xx". */
  linkGetAddr(ifindex: InterfaceRef): string {
    const i = this.resolveInterface(ifindex);
    return formatMac(this.#call(`reading the MAC of interface ${i}`, { ifindex: i },
      () => this.#live('read a MAC address').linkGetAddr(i)));
  }

  /** Sets the MTU (68 to 65535; what the link accepts is up to the plugin). */
  linkSetMtu(ifindex: InterfaceRef, mtu: number): void {
    const i = this.resolveInterface(ifindex);
    if (typeof mtu !== 'number') throw invalidArgType('mtu', 'of type number', mtu);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw outOfRange('mtu', 'an integer from 68 to 65535', mtu);
    this.#call(`setting MTU ${mtu} on interface ${i}`, { ifindex: i, mtu },
      () => this.#live('set an MTU').linkSetMtu(i, mtu));
  }

  /** The MTU of an interface. */
  linkGetMtu(ifindex: InterfaceRef): number {
    const i = this.resolveInterface(ifindex);
    const link = this.links().find((l) => l.index === i);
    if (!link) throw this.#noSuchIndex(i);
    return link.mtu;
  }

  /**
   * Adds an address: ipAddrAdd("10.0.0.1", 24, "vde0"); the family comes from the address. It
   * returns at once, like `ip addr add`: a new IPv6 address is tentative for 1-2 s (duplicate
   * address detection), and binding to it fails with EADDRNOTAVAIL until then. Give `{ nodad: true }`
   * for an address known to be unique (usable at once), or use stack.config('ip=...'), which waits.
   */
  ipAddrAdd(addr: string, prefixLen: number, ifindex: InterfaceRef, options?: IpAddrAddOptions): void {
    this.#ipAddr(true, addr, prefixLen, ifindex, options);
  }

  /** Removes an address added with ipAddrAdd (same arguments). */
  ipAddrDel(addr: string, prefixLen: number, ifindex: InterfaceRef): void {
    this.#ipAddr(false, addr, prefixLen, ifindex);
  }

  #ipAddr(add: boolean, addr: string, prefixLen: number, ifindex: InterfaceRef, options?: IpAddrAddOptions): void {
    const ip = parseIp('addr', addr);
    const len = parsePrefixLen('prefixLen', prefixLen, ip.family);
    let nodad = false;
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
      if (options.nodad !== undefined && typeof options.nodad !== 'boolean') {
        throw invalidArgType('options.nodad', 'of type boolean', options.nodad);
      }
      nodad = options.nodad === true;
    }
    const i = this.resolveInterface(ifindex);
    this.#call(`${add ? 'adding' : 'removing'} ${ip.text}/${len}${nodad ? ' (nodad)' : ''} on interface ${i}`,
      { address: ip.text, prefixLen: len, ifindex: i }, () => {
        const stack = this.#live(`${add ? 'add' : 'remove'} an address`);
        // libioth's ipaddr_add cannot pass flags: the addon's own request carries IFA_F_NODAD.
        if (nodad) stack.ipAddrAdd(ip.family, ip.bytes, len, i, native.constants.IFA_F_NODAD);
        else stack.ipAddr(add, ip.family, ip.bytes, len, i);
      });
  }

  /**
   * Adds a route. ipRouteAdd("10.0.0.254") is a default route; ipRouteAdd(gw, "10.1.0.0", 16) a
   * network route ("10.1.0.0/16" works too); ipRouteAdd(null, "10.2.0.0", 16, "vde0") an on-link
   * route with no gateway. The family comes from the addresses.
   */
  ipRouteAdd(gateway: string | null, dst?: string | null, prefixLen?: number, ifindex?: InterfaceRef): void {
    this.#ipRoute(true, gateway, dst, prefixLen, ifindex);
  }

  /** Removes a route added with ipRouteAdd (same arguments). */
  ipRouteDel(gateway: string | null, dst?: string | null, prefixLen?: number, ifindex?: InterfaceRef): void {
    this.#ipRoute(false, gateway, dst, prefixLen, ifindex);
  }

  #ipRoute(add: boolean, gateway: string | null, dst: string | null | undefined,
    prefixLen: number | undefined, ifindex: InterfaceRef | undefined): void {
    const gw = gateway === null || gateway === undefined ? null : parseIp('gateway', gateway);
    let dstText = dst ?? null;
    let len = prefixLen;
    if (typeof dstText === 'string' && dstText.includes('/')) {
      const [a, l] = dstText.split('/');
      if (!/^\d{1,3}$/.test(l)) throw invalidArgValue('dst', dst, 'must be an address or address/prefixLen');
      if (len !== undefined && len !== Number(l)) {
        throw invalidArgValue('prefixLen', prefixLen, `contradicts the prefix length in dst "${dst}"`);
      }
      dstText = a;
      len = Number(l);
    }
    const d = dstText === null ? null : parseIp('dst', dstText);
    if (gw && d && gw.family !== d.family) {
      throw invalidArgValue('gateway', gateway, `is IPv${gw.family} but dst "${dst}" is IPv${d.family}`);
    }
    const family: Family | undefined = gw?.family ?? d?.family;
    if (family === undefined) {
      throw invalidArgValue('gateway', gateway, 'and dst cannot both be empty: a route needs an address');
    }
    if (d === null && len !== undefined && len !== 0) {
      throw invalidArgValue('prefixLen', prefixLen, 'needs a dst (a default route has prefix length 0)');
    }
    const dstLen = d === null ? 0 : parsePrefixLen('prefixLen', len ?? (family === 4 ? 32 : 128), family);
    const i = ifindex === undefined || ifindex === 0 ? 0 : this.resolveInterface(ifindex);
    if (!gw && i === 0) {
      throw invalidArgValue('ifindex', ifindex, 'is required for a route without a gateway (on-link)');
    }
    const what = `${d ? `${d.text}/${dstLen}` : 'default'}${gw ? ` via ${gw.text}` : ''}${i ? ` dev ${i}` : ''}`;
    this.#call(`${add ? 'adding' : 'removing'} route ${what}`,
      { destination: d?.text ?? null, prefixLen: dstLen, gateway: gw?.text ?? null, ifindex: i },
      () => this.#live(`${add ? 'add' : 'remove'} a route`)
        .ipRoute(add, family, d?.bytes ?? null, dstLen, gw?.bytes ?? null, i));
  }

  /** The routes of the main table, like `ip route` and `ip -6 route`. */
  routes(): RouteInfo[] {
    const names = new Map(this.links().map((l) => [l.index, l.name]));
    return this.#call('listing routes', {}, () => this.#live('list routes').routes())
      .filter((r) => r.table === RT_TABLE_MAIN && r.type === 1 && (r.family === 'IPv4' || r.family === 'IPv6'))
      .map((r) => {
        const family = r.family as 'IPv4' | 'IPv6';
        const destination = r.dst ? formatIp(r.dst) : family === 'IPv4' ? '0.0.0.0' : '::';
        return {
          family,
          destination,
          prefixLen: r.dstLen,
          cidr: r.dstLen === 0 ? 'default' : `${destination}/${r.dstLen}`,
          gateway: r.gateway ? formatIp(r.gateway) : null,
          ifindex: r.index,
          interface: names.get(r.index) ?? null,
          metric: r.metric,
          scope: SCOPES[r.scope] ?? 'universe',
          protocol: ROUTE_PROTOCOLS[r.protocol] ?? String(r.protocol),
        };
      });
  }

  /**
   * Creates an interface, in iothpy's argument order: ipLinkAdd(ifindex, type, data, ifname).
   * ifindex 0 or -1 lets the stack choose. Returns the new interface's index.
   * @example stack.ipLinkAdd(0, 'dummy', null, 'dummy0')
   */
  ipLinkAdd(ifindex: number, type: string, data?: string | null, ifname?: string): number {
    if (typeof ifindex !== 'number') throw invalidArgType('ifindex', 'of type number', ifindex);
    if (!Number.isInteger(ifindex) || ifindex < -1 || ifindex > MAX_IFINDEX) {
      throw outOfRange('ifindex', `-1, 0 (any) or an index up to ${MAX_IFINDEX}`, ifindex);
    }
    checkText('type', type, 'link type such as "dummy"');
    if (data !== undefined && data !== null) checkText('data', data, 'string');
    if (ifname !== undefined) {
      checkText('ifname', ifname, 'interface name');
      if (Buffer.byteLength(ifname) > 15) throw invalidArgValue('ifname', ifname, 'must be at most 15 bytes (IFNAMSIZ)');
    }
    const before = new Set(this.links().map((l) => l.index));
    this.#call(`adding a ${type} link${ifname ? ` "${ifname}"` : ''}`, { type, ifname },
      () => this.#live('add a link').ipLinkAdd(ifname ?? null, Math.max(ifindex, 0), type, data ?? null));
    const created = this.links().filter((l) => !before.has(l.index));
    const link = ifname ? created.find((l) => l.name === ifname) : created[0];
    return link ? link.index : ifname ? this.ifNameToIndex(ifname) : 0;
  }

  /** Deletes an interface, by index or by name. */
  ipLinkDel(ifindex: InterfaceRef): void {
    if (typeof ifindex === 'string') {
      checkText('ifindex', ifindex, 'interface name');
      if (Buffer.byteLength(ifindex) > 15) throw invalidArgValue('ifindex', ifindex, 'must be at most 15 bytes (IFNAMSIZ)');
      this.#call(`deleting link "${ifindex}"`, { ifname: ifindex },
        () => this.#live('delete a link').ipLinkDel(ifindex, 0));
    } else {
      const i = this.#index('ifindex', ifindex);
      this.#call(`deleting link ${i}`, { ifindex: i }, () => this.#live('delete a link').ipLinkDel(null, i));
    }
  }

  /** Every address of every interface, like `ip addr`, with its duplicate address detection state. */
  addresses(): AddressInfo[] {
    const names = new Map(this.links().map((l) => [l.index, l.name]));
    const { IFA_F_TENTATIVE, IFA_F_DADFAILED, IFA_F_NODAD } = native.constants;
    return this.#call('listing addresses', {}, () => this.#live('list addresses').addresses())
      .filter((a) => a.address && (a.family === 'IPv4' || a.family === 'IPv6'))
      .map((a) => {
        const address = formatIp(a.address!);
        return {
          family: a.family as 'IPv4' | 'IPv6',
          address,
          prefixLen: a.prefixLen,
          cidr: `${address}/${a.prefixLen}`,
          ifindex: a.index,
          interface: names.get(a.index) ?? null,
          scope: SCOPES[a.scope] ?? 'universe',
          tentative: (a.flags & IFA_F_TENTATIVE) !== 0,
          dadFailed: (a.flags & IFA_F_DADFAILED) !== 0,
          nodad: (a.flags & IFA_F_NODAD) !== 0,
          flags: a.flags,
        };
      });
  }

  /**
   * The addresses of every interface, in the shape of os.networkInterfaces(). Unlike it, interfaces
   * that are down are listed too (their configuration is what a caller wants to read back).
   */
  interfaces(): NodeJS.Dict<NetworkInterfaceInfo[]> {
    const links = new Map(this.links().map((l) => [l.index, l]));
    const out: NodeJS.Dict<NetworkInterfaceInfo[]> = {};
    for (const a of this.#call('listing addresses', {}, () => this.#live('list addresses').addresses())) {
      const link = links.get(a.index);
      if (!link || !a.address || (a.family !== 'IPv4' && a.family !== 'IPv6')) continue;
      const family: Family = a.family === 'IPv4' ? 4 : 6;
      const address = formatIp(a.address);
      const common = {
        address,
        netmask: prefixToNetmask(a.prefixLen, family),
        mac: link.mac,
        internal: link.loopback,
        cidr: `${address}/${a.prefixLen}`,
      };
      const entry: NetworkInterfaceInfo = family === 4
        ? { ...common, family: 'IPv4' }
        : { ...common, family: 'IPv6', scopeid: a.scope === 253 ? a.index : 0 };
      (out[link.name] ??= []).push(entry);
    }
    return out;
  }

  /**
   * A new socket of this stack as a plain file descriptor, close-on-exec, owned by the caller:
   * hand it to `new net.Socket({ fd })`, `server.listen({ fd })`, or close it with fs.closeSync.
   * Plugins whose sockets are not kernel sockets are refused (ENOTSOCK).
   */
  socketFd(family: SocketFamily, type: SocketKind, protocol = 0): number {
    const { AF_INET, AF_INET6, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_CLOEXEC } = native.constants;
    const domain = family === 4 || family === 'IPv4' ? AF_INET : family === 6 || family === 'IPv6' ? AF_INET6 : -1;
    if (domain < 0) throw invalidArgValue('family', family, "must be 4, 6, 'IPv4' or 'IPv6'");
    const kind = type === 'tcp' || type === 'stream' ? SOCK_STREAM : type === 'udp' || type === 'dgram' ? SOCK_DGRAM
      : type === 'raw' ? SOCK_RAW : -1;
    if (kind < 0) throw invalidArgValue('type', type, "must be 'tcp', 'udp', 'stream', 'dgram' or 'raw'");
    if (typeof protocol !== 'number' || !Number.isInteger(protocol) || protocol < 0 || protocol > 255) {
      throw outOfRange('protocol', 'an integer from 0 to 255', protocol);
    }
    return this.#call(`opening a ${type} socket on the ${this.plugin} stack`, { plugin: this.plugin },
      () => this.#live('open a socket').socket(domain, kind | SOCK_CLOEXEC, protocol),
      (code) => code === 'ENOTSOCK'
        ? `the "${this.plugin}" plugin does not provide kernel sockets; iothts needs a plugin that does (vdestack, kernel)`
        : undefined);
  }

  /** The index of an interface given by index or by name. */
  resolveInterface(ifindex: InterfaceRef): number {
    if (typeof ifindex === 'string') return this.#nameToIndex('ifindex', ifindex);
    return this.#index('ifindex', ifindex);
  }

  #index(name: string, value: unknown): number {
    if (typeof value !== 'number') throw invalidArgType(name, 'of type number or string (an interface index or name)', value);
    if (!Number.isInteger(value) || value < 1 || value > MAX_IFINDEX) {
      throw outOfRange(name, `an integer from 1 to ${MAX_IFINDEX}`, value);
    }
    return value;
  }

  #noSuchIndex(index: number): IothError {
    const error = new Error(`No interface with index ${index} on the ${this.plugin} stack`) as IothError;
    error.code = 'ENXIO';
    error.ifindex = index;
    return error;
  }

  #call<T>(context: string, fields: Record<string, unknown> | string, fn: () => T,
    hint?: (code: string) => string | undefined): T {
    try {
      return fn();
    } catch (err) {
      const e = withContext(err, context, typeof fields === 'string' ? {} : fields);
      if (hint && e.syscall) {
        const h = hint(e.code);
        if (h) e.message += `: ${h}`;
      }
      throw e;
    }
  }
}
