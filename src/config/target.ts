// What configuration needs of a stack: the libioth configuration calls, its listings, its
// sockets and its resolver settings. The Stack class is one; config/ never imports it (the
// protocols' state is kept per target, in a WeakMap).
import type {
  AddressInfo, InterfaceRef, IpAddrAddOptions, LinkInfo, SocketFamily, SocketKind,
} from '../stack/types';

export interface ConfigTarget {
  readonly plugin: string;
  readonly closed: boolean;
  ifNameToIndex(name: string): number;
  ifIndexToName(index: number): string;
  resolveInterface(ifindex: InterfaceRef): number;
  links(): LinkInfo[];
  addresses(): AddressInfo[];
  linkSetUpDown(ifindex: InterfaceRef, up: boolean): void;
  linkSetAddr(ifindex: InterfaceRef, mac: string | Uint8Array): void;
  linkGetAddr(ifindex: InterfaceRef): string;
  linkSetMtu(ifindex: InterfaceRef, mtu: number): void;
  ipAddrAdd(addr: string, prefixLen: number, ifindex: InterfaceRef, options?: IpAddrAddOptions): void;
  ipAddrDel(addr: string, prefixLen: number, ifindex: InterfaceRef): void;
  ipRouteAdd(gateway: string | null, dst?: string | null, prefixLen?: number, ifindex?: InterfaceRef): void;
  ipRouteDel(gateway: string | null, dst?: string | null, prefixLen?: number, ifindex?: InterfaceRef): void;
  socketFd(family: SocketFamily, type: SocketKind, protocol?: number): number;
  /** The resolver's servers and search list (the Stack holds them until its resolver is made). */
  readonly resolverSettings: {
    getServers(): string[];
    setServers(servers: readonly string[]): void;
    getSearch(): string[];
    setSearch(search: readonly string[]): void;
  };
}
