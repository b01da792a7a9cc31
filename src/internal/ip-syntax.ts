// Which strings are IP addresses, and the text form of IPv6 bytes, as Node's net.isIP() and
// SocketAddress give them, without node:net: the hook reads IOTH_CONFIG's addresses before the app
// runs and must not load node:net for it (net loads the streams, ~24 built-ins, and an app may
// prepare net before it first loads it). test/unit/ip-syntax.test.ts checks both against Node.

const DECIMAL_OCTET = /^(?:0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const ZONE = /^[0-9a-zA-Z\-.:]+$/;

/** Dotted decimal, four parts 0-255, no leading zeros: net.isIPv4(). */
export function isIPv4(input: string): boolean {
  const parts = input.split('.');
  return parts.length === 4 && parts.every((p) => DECIMAL_OCTET.test(p) && Number(p) <= 255);
}

/** Eight hex groups, "::" once for one or more of them, an IPv4 tail, a %zone: net.isIPv6(). */
export function isIPv6(input: string): boolean {
  const percent = input.indexOf('%');
  if (percent >= 0 && !ZONE.test(input.slice(percent + 1))) return false;
  const address = percent >= 0 ? input.slice(0, percent) : input;
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const groups = halves.map((h) => (h === '' ? [] : h.split(':')));
  const all = groups.flat();
  // An IPv4 tail, at the very end (not before a final "::"), stands for the last two groups.
  const lastHalf = groups[groups.length - 1];
  const last = lastHalf[lastHalf.length - 1];
  const tail = last !== undefined && last.includes('.');
  if (tail && !isIPv4(last)) return false;
  const hex = tail ? all.slice(0, -1) : all;
  if (!hex.every((g) => HEX_GROUP.test(g))) return false;
  const count = hex.length + (tail ? 2 : 0);
  return halves.length === 2 ? count <= 7 : count === 8;
}

export function isIP(input: string): 0 | 4 | 6 {
  return isIPv4(input) ? 4 : isIPv6(input) ? 6 : 0;
}

/**
 * IPv6 bytes as text the way Node prints addresses (libuv's inet_ntop): lower-case groups without
 * leading zeros, the longest run of two or more zero groups (the first of equals) as "::", and the
 * last 32 bits dotted for ::ffff:a.b.c.d and ::a.b.c.d.
 */
export function formatIpv6(bytes: Buffer): string {
  const words = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(2 * i));
  let base = -1;
  let length = 0;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > length) [base, length] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (length < 2) base = -1;
  const dotted = base === 0 && (length === 6 || (length === 5 && words[5] === 0xffff));
  const hex = (from: number, to: number) => words.slice(from, to).map((w) => w.toString(16));
  const end = dotted ? 6 : 8;
  const tail = dotted ? [Array.from(bytes.subarray(12, 16)).join('.')] : [];
  if (base < 0) return [...hex(0, end), ...tail].join(':');
  const after = [...hex(base + length, end), ...tail];
  return `${hex(0, base).join(':')}::${after.join(':')}`;
}
