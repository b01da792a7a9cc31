// DNS server lists as node:dns's setServers()/getServers() take and give them: "ip", "ip:port",
// "[ipv6]:port"; port 53 is left out when printing.
import { isIP, SocketAddress } from 'node:net';
import { invalidArgType, invalidArgValue, invalidIpAddress } from '../internal/errors';
import { validateString } from '../internal/validators';


export interface DnsServer {
  address: string;
  port: number;
  family: 4 | 6;
}

const DNS_PORT = 53;

/** The canonical text of an address, so a reply's source compares equal to the server's. */
function canonical(address: string, family: 4 | 6): string {
  // (SocketAddress would resolve a zone's interface name on the host: zones stay as written.)
  return family === 4 || address.includes('%') ? address : new SocketAddress({ address, family: 'ipv6' }).address;
}

function server(address: string, port: number, index: number, text: string): DnsServer {
  // Node passes port 0 and ports above 65535 on to c-ares (and crashes on 0): refuse both here.
  if (port < 1 || port > 65535) throw invalidArgValue(`servers[${index}]`, text, 'must have a port from 1 to 65535');
  const family = isIP(address) as 4 | 6;
  return { address: canonical(address, family), port, family };
}

/** Node's setServers() parsing, same regular expressions and same errors. */
export function parseServers(servers: unknown): DnsServer[] {
  if (!Array.isArray(servers)) throw invalidArgType('servers', 'an instance of Array', servers);
  const parsed = servers.map((value: unknown, index) => {
    const text = validateString(value, `servers[${index}]`);
    if (isIP(text)) return server(text, DNS_PORT, index, text);
    const bracketed = /^\[([^[\]]*)\]/.exec(text);
    if (bracketed && isIP(bracketed[1])) {
      return server(bracketed[1], Number.parseInt(text.replace(/(^.+?)(?::(\d+))?$/, '$2'), 10) || DNS_PORT, index, text);
    }
    const split = /(^.+?)(?::(\d+))?$/.exec(text);
    if (split && isIP(split[1])) {
      return server(split[1], split[2] ? Number.parseInt(split[2], 10) : DNS_PORT, index, text);
    }
    throw invalidIpAddress(text);
  });
  // c-ares keeps one of each address and port, so Node's getServers() lists each once.
  return parsed.filter((s, i) => parsed.findIndex((o) => o.address === s.address && o.port === s.port) === i);
}

export function formatServers(servers: readonly DnsServer[]): string[] {
  return servers.map(({ address, port, family }) =>
    port === DNS_PORT ? address : `${family === 6 ? `[${address}]` : address}:${port}`);
}
