// What the socket layer needs of a stack: its sockets, its name for messages, and whether it is
// closed. The Stack class is one; the socket layer never imports it.
import type { SocketFamily, SocketKind } from '../stack/types';

export interface SocketSource {
  readonly closed: boolean;
  readonly plugin: string;
  socketFd(family: SocketFamily, type: SocketKind, protocol?: number): number;
}
