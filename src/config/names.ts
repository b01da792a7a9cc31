// DNS names in wire format inside DHCP and router advertisement options (search lists, FQDN),
// through dns-packet's name codec, which @types/dns-packet does not declare.
interface NameCodec {
  encode(name: string): Buffer;
  decode: ((buf: Buffer, offset: number) => string) & { bytes: number };
}

// Loaded at first use: only DHCP and router discovery read names, and dns-packet takes ~5 ms to load
// (a quarter of the hook's start when it was loaded with every configuration).
let loaded: NameCodec | undefined;
const codec = (): NameCodec => (loaded ??= (require('dns-packet') as { name: NameCodec }).name);

export const encodeName = (name: string): Buffer => codec().encode(name);

/** The names packed one after another in `buf` (compression pointers relative to `buf`); throws when malformed. */
export function decodeNames(buf: Buffer, stopAtZero = false): string[] {
  const names: string[] = [];
  for (let i = 0; i < buf.length && !(stopAtZero && buf[i] === 0);) {
    names.push(codec().decode(buf, i));
    i += codec().decode.bytes;
  }
  return names;
}
