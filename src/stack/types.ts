// The public shapes of src/stack: what the Stack constructor takes, and what its listings return.
import type { NativeIpv6Settings } from '../internal/native';

/** An interface: its index (as libioth takes it) or its name ("vde0"). */
export type InterfaceRef = number | string;

/** The options form of `new Stack(...)`. */
export interface StackOptions {
  /** libioth plugin: "vdestack" (default), "kernel", or any installed one. */
  plugin?: string;
  /** Options for the plugin, passed after a comma as libioth expects ("plugin,options"). */
  pluginOptions?: string;
  /** One VNL or a list: one interface each (vde0, vde1, ...; "name:vnl" names it). */
  vnl?: string | readonly string[] | null;
  /**
   * Use the stack another thread created (its `share()`), or, with a share from
   * `share({ processes: true })`, the stack of another process (a child uses its parent's).
   */
  share?: StackShare;
  /**
   * How long, at most, close() and the process's exit wait for the stack's TCP connections to
   * deliver what they still have to send (ms; 0: never wait). Default: IOTHTS_LINGER, or 2000.
   */
  linger?: number;
}

/** What `stack.close()` takes. */
export interface CloseOptions {
  /** This close()'s bound on waiting for ended connections to deliver their data (ms; 0: none). */
  linger?: number;
}

/** What a worker thread needs to use a stack of another thread of the same process. */
export interface StackShare {
  id: number;
  plugin: string;
  pluginOptions: string;
  vnls: string[];
  /**
   * With `share({ processes: true })`: the socket broker through which other processes of the same
   * user (in the same network namespace) get this stack's sockets, and the pid that owns the stack.
   */
  broker?: string;
  owner?: number;
}

/** What `stack.share()` takes. */
export interface ShareOptions {
  /** Also serve the stack to other processes (children), through a broker thread of this one. */
  processes?: boolean;
}

/** One interface, as `stack.links()` lists it. */
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

/** One address, as `stack.addresses()` lists it (`ip addr`). */
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

/** What `stack.ipAddrAdd()` takes after the interface. */
export interface IpAddrAddOptions {
  /**
   * Skip IPv6 duplicate address detection (IFA_F_NODAD, iproute2's `nodad`): the address is usable
   * at once. Only for an address known to be unique on its network.
   */
  nodad?: boolean;
}

/** One route of the main table, as `stack.routes()` lists it. */
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
  /**
   * Who made the route: "kernel", "boot" (ipRouteAdd), "static", "ra" (router advertisement), "dhcp",
   * or the number.
   */
  protocol: string;
}

/** The family of `stack.socketFd()`. */
export type SocketFamily = 4 | 6 | 'IPv4' | 'IPv6';
/** The type of `stack.socketFd()`: `tcp`/`stream`, `udp`/`dgram`, or `raw`. */
export type SocketKind = 'tcp' | 'udp' | 'stream' | 'dgram' | 'raw';

/**
 * A route in the options form of ipRouteAdd/ipRouteDel: `{ gateway: '10.0.0.254' }` is a default
 * route, `{ gateway, dst: '10.1.0.0/16' }` a network route, `{ dst: '10.2.0.0/16', ifindex: 'vde0' }`
 * an on-link one.
 */
export interface RouteSpec {
  gateway?: string | null;
  /** The destination network, "address" or "address/prefixLen"; none: the default route. */
  dst?: string | null;
  prefixLen?: number;
  /** The interface, by index or name: required without a gateway. */
  ifindex?: InterfaceRef;
}
