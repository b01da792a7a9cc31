// Loads the compiled addon (addon/, built by cmake-js into build/Release) and types its surface.
// Everything here is raw: addresses are Buffers, families are 4 or 6, interfaces are indices.
import * as path from 'node:path';

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
  /** "setns": socket() made by this thread inside the stack's netns; "helper": ioth_msocket. */
  socketPath(): 'setns' | 'helper';
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
}

export interface Native {
  NativeStack: {
    new (plugin: string, vnls: string[]): NativeStack;
    /** Borrows a stack that a NativeStack of another thread of this process owns. */
    new (shareId: number): NativeStack;
  };
  pluginDir(): string;
  deleteAllStacks(): void;
  bindSocket(fd: number, family: 4 | 6, addr: Buffer, port: number, reuseAddr: boolean, v6Only: boolean): void;
  setSocketOption(fd: number, name: 'bindtodevice', value: string): void;
  setSocketOption(fd: number, name: 'broadcast', value: boolean): void;
  setSocketOption(fd: number, name: 'multicast_hops6' | 'multicast_if6', value: number): void;
  sendTo(fd: number, data: Buffer, family: 4 | 6, addr: Buffer, port: number, scopeId: number): number;
  unsentBytes(fd: number): number;
  recvFrom(fd: number, timeoutMs: number): { data: Buffer; family: 4 | 6; address: Buffer; port: number; scopeId: number } | null;
  constants: {
    AF_INET: number; AF_INET6: number; AF_PACKET: number; AF_NETLINK: number;
    SOCK_STREAM: number; SOCK_DGRAM: number; SOCK_RAW: number; SOCK_NONBLOCK: number;
    SOCK_CLOEXEC: number; IFF_UP: number; IFF_LOOPBACK: number; IFF_RUNNING: number;
    IFA_F_NODAD: number; IFA_F_DADFAILED: number; IFA_F_TENTATIVE: number;
  };
}

function load(): Native {
  // dist/src/native.js and src/native.ts (under ts-jest) both sit below the package root.
  const root = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');
  const file = path.join(root, 'build', 'Release', 'iothts.node');
  try {
    return require(file) as Native;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'MODULE_NOT_FOUND'
      ? 'the native addon is not built: run `npm run build` (after `sudo scripts/setup-system.sh`)'
      : 'libioth could not be loaded: run `sudo scripts/setup-system.sh`';
    const error = new Error(`iothts: cannot load ${file}: ${hint} (${e.message})`) as NodeJS.ErrnoException;
    error.code = 'ERR_IOTH_ADDON';
    throw error;
  }
}

export const native: Native = load();

let beforeDelete: () => void = () => {};

/** What to do at process exit before the stacks are deleted (src/stack.ts: let them send). */
export function onExitBeforeDelete(fn: () => void): void {
  beforeDelete = fn;
}

// process.exit() and uncaught exceptions skip the addon's environment cleanup hook, but not 'exit'.
process.once('exit', () => {
  try {
    beforeDelete();
  } finally {
    native.deleteAllStacks();
  }
});
