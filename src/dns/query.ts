// One DNS query through the stack, as a stub resolver sends it: over UDP to each server in turn for
// `tries` rounds, each attempt from a fresh socket (random source port) with a fresh random id, and
// over TCP when the reply is truncated. Only a reply from the server's address and port, with the
// attempt's id and the question asked, counts: another id or question is ignored while waiting goes
// on, so a spoofed reply cannot end the query; a late reply to an earlier attempt is still accepted.
// A reply from the server that does not parse ends the attempt at once with EBADRESP, as c-ares's
// "malformations are never accepted" does (an empty datagram is ignored, as c-ares ignores it).
import { randomInt } from 'node:crypto';
import type * as dgram from 'node:dgram';
import * as packet from 'dns-packet';
import { DnsFailure } from './errors';
import type { DnsServer } from './servers';
import type { DnsTransport } from './transport';

export type QueryType = packet.RecordType | 'ANY';

export interface QueryOptions {
  servers: readonly DnsServer[];
  /** Milliseconds to wait for each attempt before asking the next server. */
  timeout: number;
  /** Rounds over the servers. */
  tries: number;
  signal: AbortSignal;
  /** Source addresses to bind the query sockets to, per family (Resolver#setLocalAddress). */
  local?: Partial<Record<4 | 6, string>>;
}

/** A decoded reply; dns-packet's types leave out the rcode it decodes. */
export type Reply = packet.DecodedPacket & { rcode: string };

// Errors that another server may not share: like c-ares, ask the next one (and not this one again).
const NEXT_SERVER: Record<string, string> = {
  SERVFAIL: 'ESERVFAIL', REFUSED: 'EREFUSED', NOTIMP: 'ENOTIMP', FORMERR: 'EFORMERR',
};
// When no server gave an answer, the most telling failure is reported.
const RANK = ['ETIMEOUT', 'EBADRESP', 'ECONNREFUSED', 'EFORMERR', 'ENOTIMP', 'EREFUSED', 'ESERVFAIL'];

export function query(transport: DnsTransport, name: string, type: QueryType, options: QueryOptions): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const question = { name, type: type as packet.RecordType, class: 'IN' as const };
    const message = (id: number): packet.Packet => ({ type: 'query', id, flags: packet.RECURSION_DESIRED, questions: [question] });
    const closers: Array<() => void> = [];
    const gaveError = new Set<DnsServer>();
    let failure = 'ETIMEOUT';
    let attempt = 0; // over tries × servers
    let step = 0; // the current attempt; older ones may still answer
    let timer: NodeJS.Timeout | undefined;
    let settled = false;

    const note = (code: string) => {
      if (RANK.indexOf(code) > RANK.indexOf(failure)) failure = code;
    };
    const onAbort = () => finish(new DnsFailure('ECANCELLED'));
    function finish(err: unknown, reply?: Reply): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      for (const close of closers) close();
      if (err) reject(err);
      else resolve(reply as Reply);
    }

    // Moves on from attempt `from`, unless something already did.
    function advance(from: number): void {
      if (settled || from !== step) return;
      clearTimeout(timer);
      step++;
      launch();
    }

    function launch(): void {
      const { servers, tries } = options;
      while (attempt < tries * servers.length) {
        const server = servers[attempt++ % servers.length];
        if (gaveError.has(server)) continue;
        const mine = step;
        timer = setTimeout(() => advance(mine), options.timeout);
        try {
          udp(server, mine);
        } catch (err) {
          finish(err); // no socket at all (a closed stack): say why rather than time out
        }
        return;
      }
      finish(new DnsFailure(failure));
    }

    function matches(reply: Reply, id: number): boolean {
      const q = reply.questions;
      return reply.type === 'response' && reply.id === id && q?.length === 1 && q[0].type === question.type &&
        q[0].class === 'IN' && q[0].name.toLowerCase() === name.toLowerCase();
    }

    /** The reply if it answers attempt `id`; null if it answers something else; 'malformed'. */
    function decode(buf: Buffer, id: number): Reply | null | 'malformed' {
      let reply: Reply;
      try {
        reply = packet.decode(buf) as Reply;
      } catch {
        return 'malformed';
      }
      return matches(reply, id) ? reply : null;
    }

    // A genuine reply: an answer or NXDOMAIN ends the query; a server error moves on.
    function accept(reply: Reply, server: DnsServer, mine: number): void {
      if (reply.rcode === 'NOERROR') return finish(null, reply);
      if (reply.rcode === 'NXDOMAIN') return finish(new DnsFailure('ENOTFOUND'));
      gaveError.add(server);
      note(NEXT_SERVER[reply.rcode] ?? 'EBADRESP');
      advance(mine);
    }

    function udp(server: DnsServer, mine: number): void {
      const id = randomInt(0x10000);
      const socket: dgram.Socket = transport.udpSocket(server.family);
      let truncated = false;
      closers.push(() => {
        try {
          socket.close();
        } catch { /* already closed */ }
      });
      // A connected socket also gets the server's ICMP "port unreachable" as ECONNREFUSED.
      socket.on('error', () => {
        note('ECONNREFUSED');
        advance(mine);
      });
      socket.on('message', (msg, from) => {
        if (from.address !== server.address || from.port !== server.port || msg.length === 0) return;
        const reply = decode(msg, id);
        if (reply === 'malformed') {
          note('EBADRESP');
          return advance(mine);
        }
        if (!reply) return;
        if (!reply.flag_tc) return accept(reply, server, mine);
        if (mine !== step || truncated) return; // a late or repeated truncated reply
        truncated = true;
        try {
          tcp(server, mine);
        } catch (err) {
          finish(err);
        }
      });
      const ask = () => socket.connect(server.port, server.address, (err?: Error) => {
        if (err) return socket.emit('error', err);
        socket.send(packet.encode(message(id)), (e) => e && socket.emit('error', e));
      });
      // From a source address: bound first, connected once bound (a failed bind is an 'error').
      const local = options.local?.[server.family];
      if (local) socket.bind({ address: local, port: 0 }, ask);
      else ask();
    }

    // The same question over TCP, each message behind its 2-byte length (RFC 1035 4.2.2).
    function tcp(server: DnsServer, mine: number): void {
      clearTimeout(timer);
      timer = setTimeout(() => advance(mine), options.timeout);
      const id = randomInt(0x10000);
      const socket = transport.tcpConnect(server.address, server.port, options.local?.[server.family]);
      closers.push(() => socket.destroy());
      let data = Buffer.alloc(0);
      let done = false;
      const fail = (code: string) => {
        if (done) return;
        done = true;
        socket.destroy();
        note(code);
        advance(mine);
      };
      socket.on('error', () => fail('ECONNREFUSED'));
      socket.on('close', () => fail('EBADRESP'));
      socket.on('data', (chunk) => {
        data = Buffer.concat([data, chunk as Buffer]); // no encoding is set: always bytes
        if (data.length < 2 || data.length < 2 + data.readUInt16BE(0)) return;
        const reply = decode(data.subarray(2, 2 + data.readUInt16BE(0)), id);
        if (!reply || reply === 'malformed') return fail('EBADRESP'); // one query per connection: a mismatch is a bad server
        done = true;
        socket.destroy();
        accept(reply, server, mine);
      });
      socket.write(packet.streamEncode(message(id)));
    }

    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort);
    launch();
  });
}
