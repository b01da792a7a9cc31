// DNS names in wire format inside DHCP and router advertisement options (search lists, FQDN),
// through dns-packet's name codec, which @types/dns-packet does not declare.
import * as dnsPacket from 'dns-packet';

interface NameCodec {
  encode(name: string): Buffer;
  decode: ((buf: Buffer, offset: number) => string) & { bytes: number };
}

const codec = (dnsPacket as unknown as { name: NameCodec }).name;

export const encodeName = (name: string): Buffer => codec.encode(name);

/** The names packed one after another in `buf` (compression pointers relative to `buf`); throws when malformed. */
export function decodeNames(buf: Buffer, stopAtZero = false): string[] {
  const names: string[] = [];
  for (let i = 0; i < buf.length && !(stopAtZero && buf[i] === 0);) {
    names.push(codec.decode(buf, i));
    i += codec.decode.bytes;
  }
  return names;
}
