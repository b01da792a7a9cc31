// iothts: Internet of Threads for Node.js.
export { Stack } from './stack';
export type { AddressInfo, CloseOptions, InterfaceRef, IpAddrAddOptions, LinkInfo, RouteInfo, SocketFamily, SocketKind, StackOptions, StackShare } from './stack';
export { installedPlugins } from './plugins';
export { override, overridingStack } from './override';
export type { IothError } from './errors';
export type { StackNet } from './net';
export type { StackDgram } from './dgram';
export type { StackDns } from './dns';
export type { ConfigResult, Dhcp4Lease, Dhcp6Lease, RouterAdvertisement } from './config';
