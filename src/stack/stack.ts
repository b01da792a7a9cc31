// Stack: one virtual TCP/IP stack from a libioth plugin, attached to zero or more VDE networks
// (VNLs), with libioth's configuration calls under their libioth names in camelCase and iothpy's
// argument order (family inferred from the address), plus listings in Node's own shapes. The class
// is the public face; what it delegates to lives beside it: options.ts (the constructor's forms),
// diagnose.ts (creation errors), listings.ts (netlink dumps to Node shapes), route-args.ts,
// lifecycle.ts and linger.ts (what happens at close and exit). It stays over 400 lines because
// each public method's doc comment is the API reference TypeDoc builds, beside a body of a few lines.
import type * as http from 'node:http';
import type * as https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import { parseIp, parseMac, parsePrefixLen, formatMac } from '../internal/address';
import { codedError, invalidArgType, invalidArgValue, outOfRange, stackClosed, withContext } from '../internal/errors';
import { NativeStack, native } from '../internal/native';
import type * as Brokered from './brokered';
// Loaded at first use (require below), so that a stack, and the hook, load node:net, dgram, http,
// https, tls and the resolver only for a program that uses them.
import type * as Agents from '../sockets/agents';
import type * as SourceAddress from '../sockets/source-address';
import type { ConfigTarget } from '../config/target';
import type { StackDgram } from '../sockets/dgram';
import type { StackNet } from '../sockets/net';
import type { StackDns } from '../dns';
import { applyConfig, applyConfigAsync, ConfigResult, releaseAll, resolvConf, splitStackConfig } from '../config';
import type * as Diagnose from './diagnose';
import { OpenStack, track, untrack } from './lifecycle';
import { checkLinger, waitUntilSent } from './linger';
import { toAddresses, toLinks, toNetworkInterfaces, toRoutes } from './listings';
import { expectedInterfaces, parseStackOptions } from './options';
import { withVnlDefaults } from './vnl-defaults';
import type * as RouteArgs from './route-args';
import type * as Scope from '../override/scope';
import type { AddressInfo, CloseOptions, InterfaceRef, IpAddrAddOptions, LinkInfo, RouteInfo, RouteSpec, SocketFamily, SocketKind, ShareOptions, StackOptions, StackShare } from './types';
import { validateIfname, validateInteger, validateText } from '../internal/validators';

const MAX_IFINDEX = 0x7fffffff;

// At first use too: a failed creation's diagnosis, a child process's broker, route arguments (each a
// file the hook's start would otherwise load, compile and run for nothing: ~0.15 ms a file here).
const diagnose = (): typeof Diagnose => require('./diagnose');
const brokered = (): typeof Brokered => require('./brokered');
const routeArgs = (): typeof RouteArgs => require('./route-args');

/**
 * A TCP/IP stack of its own (libioth's `ioth_newstack`): interfaces, addresses, routes and sockets,
 * on zero or more VDE networks (one interface per VNL), several per process. Methods are
 * synchronous netlink calls; `net`, `dgram` and `dns` carry Node's networking API bound to it.
 *
 * ```ts
 * const stack = new Stack('vdestack', 'vxvde://234.0.0.1');
 * stack.config('eth,ip=10.0.0.1/24');
 * stack.net.createServer((s) => s.pipe(s)).listen(7, '10.0.0.1');
 * ```
 */
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
  readonly owned: boolean;
  #native: NativeStack | null;
  #fromProcess?: StackShare;
  #linger: number;
  // What the exit hook needs (held here, so that it lives exactly as long as this stack).
  #open?: OpenStack;
  #openRef?: WeakRef<OpenStack>;

  /**
   * new Stack(plugin = "vdestack", vnl?)  or  new Stack({ plugin, pluginOptions, vnl })
   * @example new Stack('vdestack', 'vxvde://234.0.0.1')
   */
  constructor(plugin?: string | StackOptions, vnl?: string | readonly string[] | null) {
    const options = parseStackOptions(plugin, vnl);
    if (options.share) {
      const { share } = options;
      this.plugin = share.plugin;
      this.pluginOptions = share.pluginOptions;
      this.vnls = Object.freeze(share.vnls);
      this.owned = false;
      this.#linger = 0;
      if (share.broker !== undefined && share.owner !== process.pid) {
        this.#native = brokered().brokeredNative(share.broker, share.owner ?? 0);
        this.#fromProcess = share; // what share() gives on: the owner's broker serves threads too
      } else {
        this.#native = new native.NativeStack(share.id);
      }
      return;
    }
    this.owned = true;
    this.#linger = options.linger;
    this.plugin = options.plugin;
    this.pluginOptions = options.pluginOptions;
    this.vnls = Object.freeze(options.vnls);

    const spec = this.pluginOptions ? `${this.plugin},${this.pluginOptions}` : this.plugin;
    try {
      this.#native = new native.NativeStack(spec, this.vnls.map(withVnlDefaults));
    } catch (err) {
      throw diagnose().creationError(err, this.plugin, this.vnls, this.pluginOptions);
    }
    this.#open = { stack: this, native: () => this.#native, linger: () => this.#linger };
    this.#openRef = track(this.#open);
    this.#checkInterfaces();
  }

  // vdestack opens its tap interfaces in its helper process and cannot report a failure there:
  // the interface is then simply missing (no /dev/net/tun, most often). Say so now.
  #checkInterfaces(): void {
    if (this.plugin !== 'vdestack' || this.vnls.length === 0) return;
    const have = new Set(this.#live('list links').links().map((l) => l.name));
    const missing = expectedInterfaces(this.vnls).filter((n) => !have.has(n));
    if (missing.length === 0) return;
    this.close();
    throw diagnose().missingInterfaceError(missing, this.vnls);
  }

  #live(what: string): NativeStack {
    if (this.#native === null) throw stackClosed(what);
    return this.#native;
  }

  /** node:net on this stack: createServer, connect, Server, Socket, ... */
  get net(): StackNet {
    return this.#net ??= (require('../sockets/net') as typeof import('../sockets/net')).createStackNet(this, () => this.#lookup());
  }

  /** node:dgram on this stack: createSocket, Socket. */
  get dgram(): StackDgram {
    return this.#dgram ??= (require('../sockets/dgram') as typeof import('../sockets/dgram')).createStackDgram(this, () => this.#lookup());
  }

  /** An http.Agent whose connections live on this stack: http.get(url, { agent }). */
  httpAgent(options?: http.AgentOptions): http.Agent {
    return (require('../sockets/agents') as typeof Agents).createHttpAgent(this.net, options);
  }

  /** An https.Agent whose connections (TLS over TCP) live on this stack. */
  httpsAgent(options?: https.AgentOptions): https.Agent {
    return (require('../sockets/agents') as typeof Agents).createHttpsAgent(this.net, options);
  }

  /**
   * node:dns on this stack: every query goes through the stack's own sockets to the servers set with
   * stack.dns.setServers() (none at first: nothing falls back to the host's resolver). Its lookup
   * is what stack.net and stack.dgram use for host names.
   */
  get dns(): StackDns {
    if (this.#dns) return this.#dns;
    const dns = this.#dns = (require('../dns') as typeof import('../dns')).createDns({
      udpSocket: (family) => this.dgram.createSocket(family === 6 ? 'udp6' : 'udp4'),
      tcpConnect: (ip, port, localAddress) => this.net.connect({ port, host: ip, localAddress }),
      interfaces: () => this.interfaces(),
      sourceAddress: (address) => (require('../sockets/source-address') as typeof SourceAddress).sourceAddressOn(this, address),
    });
    const { servers, search } = this.#heldSettings;
    if (servers.length > 0) dns.setServers(servers);
    if (search.length > 0) dns.setSearch(search);
    return dns;
  }

  // What configuration gave the resolver before it was made: dns= and domain= (checked by the
  // configuration's parser) must not load the resolver (src/dns/, node:net, node:crypto), which the
  // hook would then load for every app: it is made at the first look-up or use of stack.dns.
  #heldSettings: { servers: readonly string[]; search: readonly string[] } = { servers: [], search: [] };

  /** @internal Configuration's view of the resolver's settings: stack.dns's, or held until it is made. */
  get resolverSettings(): ConfigTarget['resolverSettings'] {
    if (this.#dns) return this.#dns;
    const held = this.#heldSettings;
    return {
      getServers: () => [...held.servers],
      setServers: (servers) => { held.servers = [...servers]; },
      getSearch: () => [...held.search],
      setSearch: (search) => { held.search = [...search]; },
    };
  }

  #lookup(): LookupFunction {
    return this.dns.lookup as unknown as LookupFunction;
  }

  /**
   * Applies a configuration string in iothconf's language and returns what the interface now holds:
   * `stack.config('eth,ip=10.0.0.1/24,gw=10.0.0.254,dns=10.0.0.53')`, `stack.config('eth,dhcp')`,
   * `stack.config('auto,fqdn=host.example.org')`. Keys: iface=, ifindex=, eth, ip=, gw=, dns=,
   * domain=, mac=, mtu=, fqdn=, nodad, dhcp, dhcp6, rd, slaac, auto, auto4, auto6, debug, and the
   * undo forms -ip=, -gw=, -dns=, -domain=, -static, -eth, -dhcp, -dhcp6, -rd, -auto4, -auto6, -all.
   * Blocks while DHCP and router discovery wait for answers (a few seconds at most), as ioth_config
   * does, and until the IPv6 addresses it added are usable (duplicate address detection);
   * configAsync() is the same without blocking. Leases are renewed while the stack lives and
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
   * helper, or the plugin's own socket call); "broker" for another process's stack (its owner
   * makes each socket and passes it over). All give the same sockets.
   */
  get socketMode(): 'setns' | 'helper' | 'broker' {
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
    if (this.owned) waitUntilSent([{ native: this.#native, linger }], false);
    releaseAll(this);
    try {
      this.#native.close();
    } catch (err) {
      // A borrower whose owner closed the stack first: nothing is left to let go of (close() is
      // idempotent for the borrower too).
      if (this.owned || (err as NodeJS.ErrnoException).code !== 'ERR_IOTH_STACK_CLOSED') {
        throw withContext(err, `closing the ${this.plugin} stack`);
      }
    }
    this.#native = null;
    if (this.#openRef) untrack(this.#openRef);
  }

  /**
   * What `new Stack({ share })` needs to use this stack from a worker thread of this process (the
   * value is structured-cloneable: pass it in workerData). Its sockets are this stack's sockets.
   * With `{ processes: true }` other processes of this user can use it too (JSON-serialisable: the
   * hook passes it to children in their environment), through a broker thread of this process,
   * while the stack is open here; they can list it but not configure it. A stack borrowed from
   * another process gives that process's share on, for its own threads and children.
   */
  share(options: ShareOptions = {}): StackShare {
    const live = this.#live('share');
    if (this.#fromProcess) return { ...this.#fromProcess, vnls: [...this.#fromProcess.vnls] };
    const share: StackShare = {
      id: live.shareId(), plugin: this.plugin, pluginOptions: this.pluginOptions, vnls: [...this.vnls],
    };
    if (options?.processes) Object.assign(share, { broker: live.serveChildren(), owner: process.pid });
    return share;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Runs `fn(...args)` with this stack for its async context: every TCP/UDP socket and node:dns
   * look-up that starts there (its callbacks, promises, timers, the events of what it opened) uses
   * this stack, through Node's own `net`, `dgram`, `http`, `fetch`, `dns` and the libraries on them;
   * the rest of the process keeps its default. Returns what fn returns. A closed stack:
   * ERR_IOTH_STACK_CLOSED. [Scopes](../../docs/api/scopes.md).
   */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    return (require('../override/scope') as typeof Scope).runIn(this, fn, args);
  }

  /** if_nametoindex: the index of the interface called `name`. */
  ifNameToIndex(name: string): number {
    return this.#nameToIndex('name', name);
  }

  // `argument` is the caller's name for it, so that an error names the argument given.
  #nameToIndex(argument: string, name: string): number {
    validateIfname(name, argument);
    return this.#native_('look up an interface', `no interface "${name}"`, { ifname: name }, (n) => n.ifNameToIndex(name));
  }

  /** if_indextoname: the name of interface `index`; ENXIO when there is none. */
  ifIndexToName(index: number): string {
    return this.#link(this.#index('index', index)).name;
  }

  /** if_nameindex: every interface with its index. */
  ifNameIndex(): { index: number; name: string }[] {
    return this.links().map(({ index, name }) => ({ index, name }));
  }

  /** Every interface (link) with its MAC, MTU and state. */
  links(): LinkInfo[] {
    return toLinks(this.#native_('list links', 'list links', {}, (n) => n.links()), native.constants);
  }

  /** Brings an interface up (true) or down (false). */
  linkSetUpDown(ifindex: InterfaceRef, up: boolean): void {
    const i = this.resolveInterface(ifindex);
    if (typeof up !== 'boolean') throw invalidArgType('up', 'of type boolean', up);
    this.#native_('set a link up or down', `setting interface ${i} ${up ? 'up' : 'down'}`, { ifindex: i },
      (n) => n.linkSetUpDown(i, up));
  }

  /** Sets the MAC address: "02:00:00:00:00:01" (or with "-"), or 6 bytes. */
  linkSetAddr(ifindex: InterfaceRef, mac: string | Uint8Array): void {
    const i = this.resolveInterface(ifindex);
    const bytes = parseMac('mac', mac);
    this.#native_('set a MAC address', `setting MAC ${formatMac(bytes)} on interface ${i}`, { ifindex: i },
      (n) => n.linkSetAddr(i, bytes));
  }

  /** The MAC address as "xx:xx:xx:xx:xx:xx". */
  linkGetAddr(ifindex: InterfaceRef): string {
    const i = this.resolveInterface(ifindex);
    return formatMac(this.#native_('read a MAC address', `reading the MAC of interface ${i}`, { ifindex: i },
      (n) => n.linkGetAddr(i)));
  }

  /** Sets the MTU (68 to 65535; what the link accepts is up to the plugin). */
  linkSetMtu(ifindex: InterfaceRef, mtu: number): void {
    const i = this.resolveInterface(ifindex);
    validateInteger(mtu, 'mtu', 68, 65535);
    this.#native_('set an MTU', `setting MTU ${mtu} on interface ${i}`, { ifindex: i, mtu }, (n) => n.linkSetMtu(i, mtu));
  }

  /** The MTU of an interface. */
  linkGetMtu(ifindex: InterfaceRef): number {
    return this.#link(this.resolveInterface(ifindex)).mtu;
  }

  /**
   * Adds an address: ipAddrAdd("10.0.0.1", 24, "vde0"); the family comes from the address. It
   * returns at once, like `ip addr add`: a new IPv6 address is tentative for 1-2 s (duplicate
   * address detection), and binding to it fails with EADDRNOTAVAIL until then. Give `{ nodad: true }`
   * for an address known to be unique (usable at once), or use stack.config('ip=...'), which waits.
   */
  ipAddrAdd(addr: string, prefixLen: number, ifindex: InterfaceRef, options?: IpAddrAddOptions): void {
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
    this.#native_('add an address', `adding ${ip.text}/${len}${nodad ? ' (nodad)' : ''} on interface ${i}`,
      { address: ip.text, prefixLen: len, ifindex: i }, (n) => {
        // libioth's ipaddr_add cannot pass flags: the addon's own request carries IFA_F_NODAD.
        if (nodad) n.ipAddrAdd(ip.family, ip.bytes, len, i, native.constants.IFA_F_NODAD);
        else n.ipAddr(true, ip.family, ip.bytes, len, i);
      });
  }

  /** Removes an address added with ipAddrAdd (same arguments). */
  ipAddrDel(addr: string, prefixLen: number, ifindex: InterfaceRef): void {
    const ip = parseIp('addr', addr);
    const len = parsePrefixLen('prefixLen', prefixLen, ip.family);
    const i = this.resolveInterface(ifindex);
    this.#native_('remove an address', `removing ${ip.text}/${len} on interface ${i}`,
      { address: ip.text, prefixLen: len, ifindex: i }, (n) => n.ipAddr(false, ip.family, ip.bytes, len, i));
  }

  /**
   * Adds a route. ipRouteAdd("10.0.0.254") is a default route; ipRouteAdd(gw, "10.1.0.0", 16) a
   * network route ("10.1.0.0/16" works too); ipRouteAdd(null, "10.2.0.0", 16, "vde0") an on-link
   * route with no gateway. The family comes from the addresses. The options form says the same
   * without placeholders: ipRouteAdd({ dst: "10.2.0.0/16", ifindex: "vde0" }).
   */
  ipRouteAdd(route: RouteSpec): void;
  ipRouteAdd(gateway: string | null, dst?: string | null, prefixLen?: number, ifindex?: InterfaceRef): void;
  ipRouteAdd(
    gateway: string | null | RouteSpec, dst?: string | null, prefixLen?: number, ifindex?: InterfaceRef,
  ): void {
    this.#ipRoute(true, gateway, dst, prefixLen, ifindex);
  }

  /** Removes a route added with ipRouteAdd (same arguments, either form). */
  ipRouteDel(route: RouteSpec): void;
  ipRouteDel(gateway: string | null, dst?: string | null, prefixLen?: number, ifindex?: InterfaceRef): void;
  ipRouteDel(
    gateway: string | null | RouteSpec, dst?: string | null, prefixLen?: number, ifindex?: InterfaceRef,
  ): void {
    this.#ipRoute(false, gateway, dst, prefixLen, ifindex);
  }

  #ipRoute(add: boolean, gateway: string | null | RouteSpec, dst: string | null | undefined,
    prefixLen: number | undefined, ifindex: InterfaceRef | undefined): void {
    if (gateway !== null && typeof gateway === 'object' && !Array.isArray(gateway)) {
      if (dst !== undefined || prefixLen !== undefined || ifindex !== undefined) {
        throw invalidArgValue('dst', dst, 'must be inside the route object when one is given');
      }
      [gateway, dst, prefixLen, ifindex] = routeArgs().routeSpec(gateway);
    }
    const r = routeArgs().parseRoute(gateway, dst, prefixLen, ifindex, (ref) => this.resolveInterface(ref));
    this.#native_(`${add ? 'add' : 'remove'} a route`, `${add ? 'adding' : 'removing'} route ${r.text}`,
      { destination: r.dst?.text ?? null, prefixLen: r.dstLen, gateway: r.gateway?.text ?? null, ifindex: r.ifindex },
      (n) => n.ipRoute(add, r.family, r.dst?.bytes ?? null, r.dstLen, r.gateway?.bytes ?? null, r.ifindex));
  }

  /** The routes of the main table, like `ip route` and `ip -6 route`. */
  routes(): RouteInfo[] {
    const links = this.links();
    return toRoutes(this.#native_('list routes', 'listing routes', {}, (n) => n.routes()), links);
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
    validateText(type, 'type', 'link type such as "dummy"');
    if (data !== undefined && data !== null) validateText(data, 'data', 'string');
    if (ifname !== undefined) validateIfname(ifname, 'ifname');
    const before = new Set(this.links().map((l) => l.index));
    this.#native_('add a link', `adding a ${type} link${ifname ? ` "${ifname}"` : ''}`, { type, ifname },
      (n) => n.ipLinkAdd(ifname ?? null, Math.max(ifindex, 0), type, data ?? null));
    const created = this.links().filter((l) => !before.has(l.index));
    const link = ifname ? created.find((l) => l.name === ifname) : created[0];
    return link ? link.index : ifname ? this.ifNameToIndex(ifname) : 0;
  }

  /** Deletes an interface, by index or by name. */
  ipLinkDel(ifindex: InterfaceRef): void {
    if (typeof ifindex === 'string') {
      validateIfname(ifindex, 'ifindex');
      this.#native_('delete a link', `deleting link "${ifindex}"`, { ifname: ifindex }, (n) => n.ipLinkDel(ifindex, 0));
    } else {
      const i = this.#index('ifindex', ifindex);
      this.#native_('delete a link', `deleting link ${i}`, { ifindex: i }, (n) => n.ipLinkDel(null, i));
    }
  }

  /** Every address of every interface, like `ip addr`, with its duplicate address detection state. */
  addresses(): AddressInfo[] {
    const links = this.links();
    return toAddresses(this.#native_('list addresses', 'listing addresses', {}, (n) => n.addresses()), links, native.constants);
  }

  /**
   * The addresses of every interface, in the shape of os.networkInterfaces(). Unlike it, interfaces
   * that are down are listed too (their configuration is what a caller wants to read back).
   */
  interfaces(): NodeJS.Dict<NetworkInterfaceInfo[]> {
    const links = this.links();
    return toNetworkInterfaces(this.#native_('list addresses', 'listing addresses', {}, (n) => n.addresses()), links);
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
    return this.#native_('open a socket', `opening a ${type} socket on the ${this.plugin} stack`, { plugin: this.plugin },
      (n) => n.socket(domain, kind | SOCK_CLOEXEC, protocol),
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
    return validateInteger(value, name, 1, MAX_IFINDEX, { expected: 'of type number or string (an interface index or name)' });
  }

  #link(index: number): LinkInfo {
    const link = this.links().find((l) => l.index === index);
    if (link) return link;
    throw codedError('ENXIO', `No interface with index ${index} on the ${this.plugin} stack`, Error, { ifindex: index });
  }

  /**
   * One call into the native stack: `what` names it if the stack is closed ("Cannot add an
   * address"), `context` and `fields` are added to a system error ("... (adding 10.0.0.1/24 on
   * interface 2)"), `hint` may add what to do for a given code.
   */
  #native_<T>(what: string, context: string, fields: Record<string, unknown>, fn: (n: NativeStack) => T,
    hint?: (code: string) => string | undefined): T {
    const n = this.#live(what);
    try {
      return fn(n);
    } catch (err) {
      const e = withContext(err, context, fields);
      if (hint && e.syscall) {
        const h = hint(e.code);
        if (h) e.message += `: ${h}`;
      }
      throw e;
    }
  }
}
