// Loads the compiled addon and types its surface. node-gyp-build's rules find it: a source build in
// build/Release (cmake-js, `npm run build`; looked for directly), else the prebuilt binary shipped
// in prebuilds/ (node-gyp-build itself); tests may name
// another file (IOTHTS_ADDON, below).
// Everything here is raw: addresses are Buffers, families are 4 or 6, interfaces are indices. The
// one thing added on the way: the addon's system errors (errno, syscall, strerror's text) become
// Node-shaped system errors here, for every entry point (errors.ts fromNative).
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { fromNative } from './errors';
import { packageRoot } from './package-root';

export interface NativeLink {
  index: number;
  name: string | null;
  flags: number;
  type: number;
  mtu: number | null;
  mac: Buffer | null;
  /** The IPv6 settings that time duplicate address detection (ms), or null (no IPv6 on the link). */
  ipv6: NativeIpv6Settings | null;
}

export interface NativeIpv6Settings {
  acceptDad: number | null;
  dadTransmits: number | null;
  /** The longest random wait before the first probe (ms). */
  rtrSolicitDelay: number | null;
  /** The wait between probes (ms). */
  retransTime: number;
}

export interface NativeAddress {
  index: number;
  family: 'IPv4' | 'IPv6' | 'other';
  address: Buffer | null;
  prefixLen: number;
  scope: number;
  flags: number;
}

export interface NativeRoute {
  family: 'IPv4' | 'IPv6' | 'other';
  dst: Buffer | null;
  dstLen: number;
  gateway: Buffer | null;
  prefsrc: Buffer | null;
  index: number;
  table: number;
  protocol: number;
  scope: number;
  type: number;
  metric: number | null;
}

export interface NativeStack {
  close(): void;
  shareId(): number;
  socket(domain: number, type: number, protocol: number): number;
  /**
   * "setns": socket() made by this thread inside the stack's netns; "helper": ioth_msocket;
   * "broker": asked of the process that owns the stack (src/stack/brokered.ts).
   */
  socketPath(): 'setns' | 'helper' | 'broker';
  /** Starts (once) the broker that serves this stack's sockets to child processes; its name. */
  serveChildren(): string;
  ifNameToIndex(name: string): number;
  linkSetUpDown(index: number, up: boolean): void;
  linkSetAddr(index: number, mac: Buffer): void;
  linkGetAddr(index: number): Buffer;
  linkSetMtu(index: number, mtu: number): void;
  ipAddr(add: boolean, family: 4 | 6, addr: Buffer, prefixLen: number, index: number): void;
  /** RTM_NEWADDR with IFA_FLAGS (only IFA_F_NODAD may be set). */
  ipAddrAdd(family: 4 | 6, addr: Buffer, prefixLen: number, index: number, flags: number): void;
  ipRoute(add: boolean, family: 4 | 6, dst: Buffer | null, dstLen: number, gw: Buffer | null,
    index: number): void;
  ipLinkAdd(name: string | null, index: number, type: string, data: string | null): void;
  ipLinkDel(name: string | null, index: number): void;
  links(): NativeLink[];
  addresses(): NativeAddress[];
  routes(): NativeRoute[];
  /** The stack's TCP sockets by kernel TCP state (index 1 ESTABLISHED ... 11 CLOSING, 12 NEW_SYN_RECV). */
  tcpSummary(): NativeTcpSummary;
  /** Whether a stream socket was ever opened on the stack (from any thread). */
  hadTcp(): boolean;
}

export interface NativeTcpSummary {
  /** How many sockets are in each state. */
  sockets: number[];
  /** How many of them have bytes (or a FIN) not yet acknowledged; for LISTEN: have a backlog. */
  unacked: number[];
  /** Those bytes (inet_diag's idiag_wqueue summed). */
  unackedBytes: number[];
  /** Every socket but the listening ones, with its endpoints (addresses as inet_ntop writes them). */
  connections: NativeTcpConnection[];
}

export interface NativeTcpConnection {
  state: number;
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  /** inet_diag's idiag_wqueue: bytes (a FIN counts as one) not yet acknowledged by the peer. */
  unackedBytes: number;
}

/** A datagram (nread >= 0) or a failed read (nread alone, a negative errno); see udpReceiverOpen. */
export type UdpReceiverCallback =
  (nread: number, data?: Buffer, address?: string | number, family?: 4 | 6, port?: number) => void;

export interface Native {
  NativeStack: {
    /** deleteBoundMs (0 to 60000) bounds the stack's deletion, whenever it comes; default DELETE_BOUND_MS. */
    new (plugin: string, vnls: string[], deleteBoundMs?: number): NativeStack;
    /** Borrows a stack that a NativeStack of another thread of this process owns. */
    new (shareId: number): NativeStack;
  };
  pluginDir(): string;
  /** A socket of the stack served by broker `name` (addon/c/broker.c), in a child process. */
  brokerSocket(name: string, domain: number, type: number, protocol: number): number;
  brokerLinks(name: string): NativeLink[];
  brokerAddresses(name: string): NativeAddress[];
  brokerRoutes(name: string): NativeRoute[];
  deleteAllStacks(): void;
  /**
   * From the process's end on (a no-op in a worker thread), deleting a stack leaves its devices to
   * the kernel's asynchronous teardown of the stack's namespace instead of waiting for them.
   */
  processEnding(): void;
  bindSocket(fd: number, family: 4 | 6, addr: Buffer, port: number, reuseAddr: boolean, v6Only: boolean): void;
  connectSocket(fd: number, family: 4 | 6, addr: Buffer, port: number, scopeId: number): void;
  setSocketOption(fd: number, name: 'bindtodevice', value: string): void;
  setSocketOption(fd: number, name: 'broadcast' | 'reuseaddr' | 'reuseport', value: boolean): void;
  setSocketOption(fd: number, name: 'multicast_hops6' | 'multicast_if6', value: number): void;
  sendTo(fd: number, data: Buffer, family: 4 | 6, addr: Buffer, port: number, scopeId: number): number;
  unsentBytes(fd: number): number;
  socketName(fd: number, peer: boolean): { family: 4 | 6; address: string; port: number; scopeId: number };
  recvFrom(
    fd: number, timeoutMs: number,
  ): { data: Buffer; family: 4 | 6; address: Buffer; port: number; scopeId: number } | null;
  /**
   * A receiver of UDP socket `fd` (addon/udp_receiver.cc): once set receiving, each datagram comes to
   * `onDatagram` (address: a negative errno when the sender's zone could not be named), or a failed
   * read as its negative errno alone. `resource` is its async resource.
   */
  udpReceiverOpen(fd: number, onDatagram: UdpReceiverCallback, resource: object): number;
  /** Reads or stops reading; keeps the event loop alive while reading with `ref`. */
  udpReceiverSet(id: number, receiving: boolean, ref: boolean): void;
  udpReceiverClose(id: number): void;
  constants: {
    AF_INET: number; AF_INET6: number; AF_PACKET: number; AF_NETLINK: number;
    SOCK_STREAM: number; SOCK_DGRAM: number; SOCK_RAW: number; SOCK_NONBLOCK: number;
    SOCK_CLOEXEC: number; IFF_UP: number; IFF_LOOPBACK: number; IFF_RUNNING: number;
    IFA_F_NODAD: number; IFA_F_DADFAILED: number; IFA_F_TENTATIVE: number;
  };
}

/**
 * The addon file node-gyp-build picks: build/Release/*.node (a source build) first, then
 * prebuilds/<platform>-<arch>/.
 */
export function addonPath(): string {
  const chosen = testAddon();
  if (chosen !== undefined) return chosen;
  const root = packageRoot();
  // node-gyp-build's first choice without loading it (two files and a package.json: ~12 M
  // instructions, 1 to 2 ms, at the hook's start): the source build, unless its variables
  // (IOTHTS_PREBUILD, PREBUILDS_ONLY) send it elsewhere. cmake-js builds that one file there.
  if (process.env.IOTHTS_PREBUILD === undefined && !process.env.PREBUILDS_ONLY) {
    const built = join(root, 'build', 'Release', 'iothts.node');
    if (existsSync(built)) return built;
  }
  // Its choice among the prebuilds, for the one this package ships (scripts/prebuild.sh: N-API,
  // glibc, which any Node of the engines range and any glibc Linux of this architecture take;
  // node-gyp-build tells musl apart by /etc/alpine-release). Anything else is left to it.
  if (process.env.IOTHTS_PREBUILD === undefined && !existsSync('/etc/alpine-release')) {
    const prebuilt = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'node.napi.glibc.node');
    if (existsSync(prebuilt)) return prebuilt;
  }
  // node-gyp-build ships no types: its path() is the documented resolver behind its default export.
  const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
  return nodeGypBuild.path(root);
}

/**
 * Test-only: IOTHTS_ADDON, when set, is the absolute path of an addon file to load instead (scripts/asan.sh
 * sets it to its AddressSanitizer build). Not for applications: it bypasses the build this package picked.
 */
function testAddon(): string | undefined {
  const file = process.env.IOTHTS_ADDON;
  if (file === undefined || file === '') return undefined;
  if (!isAbsolute(file) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
    const error = new Error(`IOTHTS_ADDON (test-only) must be the absolute path of an addon file; ${JSON.stringify(file)} is not one: ` +
      'unset it, or build that addon (scripts/asan.sh prints its path)') as NodeJS.ErrnoException;
    error.code = 'ERR_IOTH_ADDON';
    throw error;
  }
  return file;
}

/** Why the addon cannot load, in one line with the fix: libioth missing, or no addon for this machine. */
export function addonLoadHint(err: NodeJS.ErrnoException): string {
  const missingLib = /(lib(?:ioth|vdeplug|fduserdata|mhash)[\w.+-]*\.so[\w.]*): cannot open shared object file/.exec(err.message);
  if (missingLib) {
    return `${missingLib[1]} is missing: libioth is not installed. On Debian 13: apt-get install libioth0 vdeplug libvdeplug-slirp; ` +
      'on Debian 12 (no libioth package): sudo npx iothts setup-system --runtime';
  }
  if (/No native build was found/.test(err.message)) {
    return `no prebuilt addon for ${process.platform}-${process.arch} and none built: install libioth-dev, cmake and g++ ` +
      '(sudo npx iothts setup-system), then npm rebuild iothts (npm 11 asks first: npm install-scripts approve iothts)';
  }
  return `the addon does not load here (${err.message.split('\n')[0]}): rebuild it with npm rebuild iothts, or run npx iothts doctor`;
}

/**
 * The bound (ms) on deleting a stack (ioth_delstack), given to the addon with each stack: vdestack's
 * shutdown waits for its helper, which can be blocked for good reading its VDE connection (a hub's
 * receive has no timeout); past the bound the addon kills the helper and closes its taps. The same
 * 2 s as the default linger (src/stack/linger.ts), for the same reason: a program's end must not hang.
 */
export const DELETE_BOUND_MS = 2000;

let loaded: Native | undefined;

function load(): Native {
  if (loaded) return loaded;
  try {
    loaded = withNodeErrors(require(addonPath()) as Native);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_IOTH_ADDON') throw err; // IOTHTS_ADDON's own
    const error = new Error(`cannot load the iothts native addon: ${addonLoadHint(err as NodeJS.ErrnoException)}`) as NodeJS.ErrnoException;
    error.code = 'ERR_IOTH_ADDON';
    throw error;
  }
  // process.exit() and uncaught exceptions skip the addon's environment cleanup hook, but not 'exit'.
  process.once('exit', () => {
    try {
      beforeDelete();
    } finally {
      // The lingers are over: nothing is waited for past the helpers' own end (15-35 ms less).
      loaded!.processEnding();
      loaded!.deleteAllStacks();
    }
  });
  return loaded;
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** `fn` with its system errors in Node's shape. */
function nodeErrors(fn: AnyFunction): AnyFunction {
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    try {
      return fn.apply(this, args);
    } catch (err) {
      throw fromNative(err);
    }
  };
  return Object.defineProperty(wrapped, 'name', { value: fn.name });
}

/** The addon with every entry point's system errors in Node's shape, and the stacks' delete bound. */
function withNodeErrors(addon: Native): Native {
  const Base = addon.NativeStack as unknown as new (...args: unknown[]) => object;
  class NativeStack extends Base {
    constructor(...args: unknown[]) {
      if (args.length === 2) args.push(DELETE_BOUND_MS); // the owner form: (plugin, vnls)
      try {
        super(...args);
      } catch (err) {
        throw fromNative(err);
      }
    }
  }
  const methods = Base.prototype as Record<string, AnyFunction>;
  for (const name of Object.getOwnPropertyNames(methods)) {
    if (name !== 'constructor') Object.defineProperty(NativeStack.prototype, name, { value: nodeErrors(methods[name]) });
  }
  const out: Record<string, unknown> = { ...addon, NativeStack };
  for (const [name, value] of Object.entries(addon)) {
    if (typeof value === 'function' && name !== 'NativeStack') out[name] = nodeErrors(value as AnyFunction);
  }
  return out as unknown as Native;
}


/**
 * The addon, loaded at its first use (Node's lazyBinding() pattern): importing a module that may
 * need it (the DHCP codecs, the resolver, the doctor) loads nothing, so pure code runs, and is
 * tested, on machines without libioth.
 */
export const native: Native = new Proxy({} as Native, {
  get: (_target, key) => Reflect.get(load(), key),
});

let beforeDelete: () => void = () => {};

/** What to do at process exit before the stacks are deleted (src/stack/stack.ts: let them send). */
export function onExitBeforeDelete(fn: () => void): void {
  beforeDelete = fn;
}
