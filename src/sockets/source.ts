// What the socket layer needs of a stack: its sockets, its name for messages, whether it is
// closed, and its interfaces' indexes (for IPv6 zones). The Stack class is one; the socket layer
// never imports it.
import type { AddressInfo, SocketFamily, SocketKind } from '../stack/types';

export interface SocketSource {
  readonly closed: boolean;
  readonly plugin: string;
  socketFd(family: SocketFamily, type: SocketKind, protocol?: number): number;
  ifNameToIndex(name: string): number;
  ifIndexToName(index: number): string;
  addresses(): AddressInfo[];
}
