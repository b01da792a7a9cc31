// A small authoritative DNS server for the tests: UDP and TCP on a port (53 by default) of every
// IPv4 and IPv6 address of a stack (stack.dgram and stack.net), or of the given addresses with
// Node's own dgram and net (the unit tier runs it on the host's 127.0.0.1), answering from a zone
// table, with per-name rules to misbehave. It records every query it receives.
import type * as dgram from 'node:dgram';
import type * as net from 'node:net';
import * as packet from 'dns-packet';

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';
const RCODES: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

export interface Rule {
  /** Answer with this rcode and no records. */
  rcode?: Rcode;
  /** Never answer. */
  silent?: boolean;
  /** Over UDP, answer with TC set and no records (TCP answers in full). */
  truncate?: boolean;
  /** First a reply with another id and a poisoned A record (6.6.6.6), 50 ms later the real one. */
  wrongIdFirst?: boolean;
  /** First a reply with the right id from another port (a spoofed source), then the real one. */
  otherPortFirst?: boolean;
  /** Over UDP, these bytes in place of the encoded reply (a malformed one, from the real reply's). */
  rewrite?: (reply: Buffer) => Buffer;
}

export interface SeenQuery {
  via: 'udp' | 'tcp';
  id: number;
  name: string;
  type: string;
  address: string;
  port: number;
}

export const POISON = '6.6.6.6';

/** Where the sockets come from: a Stack, or { dgram, net } of Node itself. */
export interface SocketSource {
  dgram: { createSocket(options: dgram.SocketOptions): dgram.Socket };
  net: { createServer(listener: (socket: net.Socket) => void): net.Server };
}

/** The address to listen on per family (a stack: every address of its own). */
export type ListenOn = Partial<Record<4 | 6, string>>;
const EVERY_ADDRESS: ListenOn = { 4: '0.0.0.0', 6: '::' };

const lower = (name: string) => name.toLowerCase();

export class DnsTestServer {
  readonly queries: SeenQuery[] = [];
  /** The port it listens on. */
  port = 0;
  /** Misbehaviour by query name (lower case). */
  readonly rules = new Map<string, Rule>();
  readonly #closers: Array<() => void> = [];
  readonly #spoofers = new Map<4 | 6, dgram.Socket>();

  private constructor(readonly source: SocketSource, readonly zone: packet.Answer[]) {}

  /**
   * Listens on `port` (0: one the system picks, the same for UDP and TCP; see `port`) of the
   * addresses in `on`.
   */
  static async start(source: SocketSource, zone: packet.Answer[], port = 53,
    on: ListenOn = EVERY_ADDRESS): Promise<DnsTestServer> {
    const server = new DnsTestServer(source, zone);
    for (const family of [4, 6] as const) {
      const host = on[family];
      if (host === undefined) continue;
      // (IPv6 only on the IPv6 sockets: Node's own refuse the flag on IPv4 ones, EINVAL.)
      const udp = source.dgram.createSocket(family === 4 ? { type: 'udp4' } : { type: 'udp6', ipv6Only: true });
      udp.on('message', (msg, from) => server.#onUdp(udp, family, msg, from));
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port || server.port, host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      server.#closers.push(() => udp.close());
      server.port ||= udp.address().port;

      const connections = new Set<net.Socket>();
      const tcp = source.net.createServer((conn) => {
        connections.add(conn);
        conn.on('close', () => connections.delete(conn));
        server.#onTcp(conn);
      });
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port: server.port, host, ipv6Only: family === 6 }, resolve);
      });
      server.#closers.push(() => {
        tcp.close();
        for (const c of connections) c.destroy();
      });
    }
    return server;
  }

  close(): void {
    for (const close of this.#closers.splice(0)) close();
    for (const s of this.#spoofers.values()) s.close();
  }

  /** Queries seen for `name` (any case). */
  seen(name: string): SeenQuery[] {
    return this.queries.filter((q) => lower(q.name) === lower(name));
  }

  /** The zone's records for a question, following CNAMEs as an authoritative server does. */
  #records(name: string, type: string): packet.Answer[] {
    const chain: packet.Answer[] = [];
    let target = name;
    for (let hop = 0; hop < 8; hop++) {
      const here = this.zone.filter((r) => lower(r.name) === lower(target));
      if (type === 'ANY') return [...chain, ...here];
      const exact = here.filter((r) => r.type === type);
      const cname = here.find((r) => r.type === 'CNAME');
      if (exact.length > 0 || type === 'CNAME' || !cname) return [...chain, ...exact];
      chain.push(cname);
      target = (cname as packet.StringAnswer).data;
    }
    return chain;
  }

  #reply(query: packet.DecodedPacket): packet.Packet {
    const q = query.questions![0];
    const rule = this.rules.get(lower(q.name)) ?? {};
    const exists = this.zone.some((r) => lower(r.name) === lower(q.name));
    const rcode = rule.rcode ?? (exists ? 'NOERROR' : 'NXDOMAIN');
    return {
      type: 'response',
      id: query.id,
      flags: packet.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & packet.RECURSION_DESIRED) | RCODES[rcode],
      questions: [q],
      answers: rcode === 'NOERROR' ? this.#records(q.name, q.type) : [],
    };
  }

  #note(via: 'udp' | 'tcp', query: packet.DecodedPacket, address: string, port: number): Rule {
    const q = query.questions?.[0];
    this.queries.push({ via, id: query.id ?? 0, name: q?.name ?? '', type: q?.type ?? '', address, port });
    return (q && this.rules.get(lower(q.name))) ?? {};
  }

  #onUdp(socket: dgram.Socket, family: 4 | 6, msg: Buffer, from: dgram.RemoteInfo): void {
    let query: packet.DecodedPacket;
    try {
      query = packet.decode(msg);
    } catch {
      return;
    }
    const rule = this.#note('udp', query, from.address, from.port);
    if (rule.silent) return;
    const reply = this.#reply(query);
    const send = (p: packet.Packet, via = socket) => via.send(packet.encode(p), from.port, from.address);
    const poisoned = { ...reply, answers: [{ name: query.questions![0].name, type: 'A' as const, ttl: 60, data: POISON }] };
    if (rule.rewrite) {
      socket.send(rule.rewrite(Buffer.from(packet.encode(reply))), from.port, from.address);
    } else if (rule.truncate) {
      send({ ...reply, flags: (reply.flags ?? 0) | packet.TRUNCATED_RESPONSE, answers: [] });
    } else if (rule.wrongIdFirst || rule.otherPortFirst) {
      if (rule.wrongIdFirst) send({ ...poisoned, id: ((reply.id ?? 0) + 1) & 0xffff });
      else send(poisoned, this.#spoofer(family));
      setTimeout(() => send(reply), 50);
    } else {
      send(reply);
    }
  }

  // A second UDP socket of the server's stack: its source port is not the server's.
  #spoofer(family: 4 | 6): dgram.Socket {
    let s = this.#spoofers.get(family);
    if (!s) {
      s = this.source.dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6' });
      this.#spoofers.set(family, s);
    }
    return s;
  }

  #onTcp(conn: net.Socket): void {
    let data = Buffer.alloc(0);
    conn.on('error', () => conn.destroy());
    conn.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      while (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) {
        const length = data.readUInt16BE(0);
        const query = packet.decode(data.subarray(2, 2 + length));
        data = data.subarray(2 + length);
        const rule = this.#note('tcp', query, conn.remoteAddress ?? '', conn.remotePort ?? 0);
        if (!rule.silent) conn.write(packet.streamEncode(this.#reply(query)));
      }
    });
  }
}
