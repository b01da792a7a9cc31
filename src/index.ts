// iothts: Internet of Threads for Node.js.
export { Stack } from './stack/stack';
export type {
  AddressInfo, CloseOptions, InterfaceRef, IpAddrAddOptions, LinkInfo, RouteInfo, RouteSpec, SocketFamily, SocketKind,
  StackOptions, StackShare,
} from './stack/types';
export { installedPlugins } from './stack/plugins';
export { override, overridingStack } from './override/override';
export type { IothError } from './internal/errors';
export type { StackNet } from './sockets/net';
export type { StackDgram } from './sockets/dgram';
export type { StackDns } from './dns';
export type { ConfigResult, Dhcp4Lease, Dhcp6Lease, RouterAdvertisement } from './config';
