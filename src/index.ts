// iothts: Internet of Threads for Node.js.
export { Stack } from './stack/stack';
export type {
  AddressInfo, CloseOptions, InterfaceRef, IpAddrAddOptions, LinkInfo, RouteInfo, RouteSpec, SocketFamily, SocketKind,
  ShareOptions, StackOptions, StackShare,
} from './stack/types';
export { installedPlugins } from './stack/plugins';
export { override, overridingStack } from './override/override';
export { runOnHost } from './override/scope';
export type { IothError } from './internal/errors';
export type { StackNet } from './sockets/net';
export type { StackDgram } from './sockets/dgram';
export type { HostEntry, HostsTable, LookupAddress, ResolverOptions, ResultOrder, StackDns, StackDnsPromises } from './dns';
// The resolver classes stack.dns.Resolver and stack.dns.promises.Resolver construct.
export type { Callback as ResolverCallback, QueryRequest, Resolver as DnsResolver, TlsaRecord } from './dns/resolver';
// What lookup() returns and calls back, as node:dns's.
export type { LookupCallback, LookupOne, LookupRequest } from './dns/lookup';
export type { PromiseResolver as DnsPromisesResolver } from './dns/promises';
export type { ConfigResult, Dhcp4Lease, Dhcp6Lease, Method as ConfigMethod, RouterAdvertisement } from './config';
export type { PrefixInfo } from './config/rd';
export type { NativeIpv6Settings as LinkIpv6Settings } from './internal/native';
