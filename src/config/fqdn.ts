// Stable identities from a host name, as libiothconf derives them (MD5 of the name without a final
// dot): a locally administered unicast MAC, and an IPv6 interface identifier. The same fqdn always
// gives the same MAC and addresses, whichever machine the program runs on.

// node:crypto at first use: only a configuration with fqdn= loads it.
const md5 = (fqdn: string) => (require('node:crypto') as typeof import('node:crypto')).createHash('md5').update(fqdn.replace(/\.$/, '')).digest();

/** The MAC: hash bytes 0-2 and 5-7, locally administered, unicast. */
export function hashMac(fqdn: string): Buffer {
  const h = md5(fqdn);
  const mac = Buffer.from([h[0], h[1], h[2], h[5], h[6], h[7]]);
  mac[0] = (mac[0] | 0x02) & ~0x01;
  return mac;
}

/** prefix (16 bytes, a /64) with its interface identifier XORed with the hash, as iothconf does. */
export function hashAddress6(prefix: Buffer, fqdn: string): Buffer {
  const h = md5(fqdn);
  const addr = Buffer.from(prefix);
  for (let i = 8; i < 16; i++) addr[i] ^= h[i - 8];
  addr[8] &= ~0x03;
  return addr;
}

/** prefix with the modified EUI-64 identifier of mac (RFC 4291 appendix A). */
export function eui64Address6(prefix: Buffer, mac: Buffer): Buffer {
  const addr = Buffer.from(prefix);
  addr.set([mac[0] ^ 0x02, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]], 8);
  return addr;
}
