// The table of bad iothconf strings, shared by the parser's unit test (test/unit/iothconf-parse.test.ts:
// each refused before any stack is touched) and the stack's (test/stack/iothconf.test.ts: the error
// from stack.config(), and the stack untouched). Each is tried after BAD_PREFIX, a valid start.

/** Valid items before each bad one: the error must still name the bad item, and nothing be applied. */
export const BAD_PREFIX = 'mtu=1300,ip=10.0.0.1,dns=10.0.0.53,';

/** Each bad string: its error code, and the words the message must hold. */
export const BAD: [string, string, RegExp][] = [
  ['bogus', 'ERR_IOTH_CONFIG', /'bogus': unknown key 'bogus'/],
  ['eth=1', 'ERR_IOTH_CONFIG', /'eth=1': 'eth' takes no value/],
  ['-dhcp=yes', 'ERR_IOTH_CONFIG', /'-dhcp=yes': '-dhcp' takes no value/],
  ['ip', 'ERR_IOTH_CONFIG', /'ip': 'ip' needs a value/],
  ['ip=', 'ERR_IOTH_CONFIG', /'ip=': 'ip' needs a value/],
  ['ip=10.0.0.300/24', 'ERR_IOTH_CONFIG', /'ip=10\.0\.0\.300\/24': must be an address/],
  ['ip=10.0.0.1/33', 'ERR_IOTH_CONFIG', /prefix length must be from 1 to 32/],
  ['ip=fd00::1/129', 'ERR_IOTH_CONFIG', /prefix length must be from 1 to 128/],
  ['ip=10.0.0.1/0', 'ERR_IOTH_CONFIG', /prefix length must be from 1 to 32/],
  ['ip=10.0.0.1/24/1', 'ERR_IOTH_CONFIG', /must be an address with an optional \/prefix/],
  ['ip=fe80::1%vde0', 'ERR_IOTH_CONFIG', /must be an address/],
  ['gw=router', 'ERR_IOTH_CONFIG', /'gw=router': must be an IPv4 or IPv6 address/],
  ['-gw=1.2.3', 'ERR_IOTH_CONFIG', /'-gw=1\.2\.3'/],
  ['dns=8.8.8.8:53', 'ERR_IOTH_CONFIG', /'dns=8\.8\.8\.8:53'/],
  ['domain=a..b', 'ERR_IOTH_CONFIG', /'domain=a\.\.b': must be a domain name/],
  ['domain=-a.test', 'ERR_IOTH_CONFIG', /must be a domain name/],
  ['fqdn=host name', 'ERR_IOTH_CONFIG', /'name': unknown key/],
  ['fqdn=.test', 'ERR_IOTH_CONFIG', /'fqdn=\.test': must be a fully qualified domain name/],
  [`fqdn=${'a'.repeat(64)}.test`, 'ERR_IOTH_CONFIG', /must be a fully qualified domain name/],
  ['mac=02:00:00:00:00', 'ERR_IOTH_CONFIG', /'mac=02:00:00:00:00': must be a MAC address/],
  ['macaddr=02:00:00:00:00:0g', 'ERR_IOTH_CONFIG', /must be a MAC address/],
  ['mtu=67', 'ERR_IOTH_CONFIG', /'mtu=67': must be a number from 68 to 65535/],
  ['mtu=1e3', 'ERR_IOTH_CONFIG', /must be a number/],
  ['ifindex=0', 'ERR_IOTH_CONFIG', /'ifindex=0': must be an interface index/],
  ['ifindex=-1', 'ERR_IOTH_CONFIG', /must be an interface index/],
  ['iface=a/b', 'ERR_IOTH_CONFIG', /'iface=a\/b': must be an interface name/],
  ['iface=sixteen-bytes-xx', 'ERR_IOTH_CONFIG', /at most 15 bytes/],
  ['stack=vdestack', 'ERR_IOTH_CONFIG', /'stack=vdestack': 'stack' chooses the stack .* Stack\.fromConfig\(\)/],
  ['vnl=null://', 'ERR_IOTH_CONFIG', /'vnl=null:\/\/'/],
  ['slaac', 'ERR_IOTH_CONFIG', /'slaac': stateless autoconfiguration needs router discovery/],
  // nodad (iothts's own key) applies to IPv6 ip= items: the prefix holds only an IPv4 one.
  ['nodad', 'ERR_IOTH_CONFIG', /'nodad': it makes the IPv6 addresses of ip= items skip duplicate address detection, and there are none/],
  ['nodad=1', 'ERR_IOTH_CONFIG', /'nodad=1': 'nodad' takes no value/],
  ['-ip=fd00::1,nodad', 'ERR_IOTH_CONFIG', /'nodad': .* there are none/],
  ["eth,ip='10.0.0.1", 'ERR_IOTH_CONFIG', /unterminated ' quote/],
  ['ETH', 'ERR_IOTH_CONFIG', /unknown key 'ETH'/],
  ['iface=nope,eth', 'ENODEV', /\(configuration item 'iface=nope'\)/],
  ['ifindex=9,eth', 'ENXIO', /\(configuration item 'ifindex=9'\)/],
];
