// A DHCPv4 server written for the tests, byte by byte and independently of src/config, on a stack:
// it answers like a real one (OFFER, ACK, NAK) with the lease times a test needs, can go quiet,
// and can send broken, foreign or spoofed replies before the good one. It records every request.
import type { Socket } from 'node:dgram';
import type { Stack } from '../../src';

export interface Request {
  type: number;
  xid: number;
  ciaddr: string;
  mac: string;
  requested?: string;
  serverId?: string;
  broadcast: boolean;
}

export interface ServerOptions {
  /** Address handed out; server at .1 of the same /24. */
  address: string;
  server: string;
  lease: number;
  t1?: number;
  t2?: number;
  /** Replies sent before each genuine one (each a function of the genuine reply's bytes). */
  noise?: ((good: Buffer) => Buffer)[];
  /** Answer REQUESTs with NAK this many times first. */
  naks?: number;
}

const opt = (code: number, value: number[] | Buffer) =>
  Buffer.concat([Buffer.from([code, value.length]), Buffer.from(value)]);
const ip = (a: string) => a.split('.').map(Number);
const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

export function parseRequest(b: Buffer): Request | null {
  if (b.length < 240 || b[0] !== 1 || b.readUInt32BE(236) !== 0x63825363) return null;
  const options = new Map<number, Buffer>();
  for (let i = 240; i < b.length && b[i] !== 255;) {
    if (b[i] === 0) { i++; continue; }
    options.set(b[i], b.subarray(i + 2, i + 2 + b[i + 1]));
    i += 2 + b[i + 1];
  }
  const text = (v?: Buffer) => (v && v.length === 4 ? Array.from(v).join('.') : undefined);
  return {
    type: options.get(53)?.[0] ?? 0, xid: b.readUInt32BE(4), ciaddr: Array.from(b.subarray(12, 16)).join('.'),
    mac: Array.from(b.subarray(28, 34), (x) => x.toString(16).padStart(2, '0')).join(':'),
    requested: text(options.get(50)), serverId: text(options.get(54)), broadcast: (b.readUInt16BE(10) & 0x8000) !== 0,
  };
}

export function reply(req: Buffer, type: number, o: ServerOptions, extra: Buffer[] = []): Buffer {
  const head = Buffer.alloc(240);
  head[0] = 2;
  head[1] = 1;
  head[2] = 6;
  req.copy(head, 4, 4, 8);  // xid
  req.copy(head, 10, 10, 12);  // flags
  req.copy(head, 28, 28, 44);  // chaddr
  if (type !== 6) Buffer.from(ip(o.address)).copy(head, 16);
  head.writeUInt32BE(0x63825363, 236);
  const options = [opt(53, [type]), opt(54, ip(o.server))];
  if (type !== 6) {
    options.push(opt(1, [255, 255, 255, 0]), opt(3, ip(o.server)), opt(6, ip(o.server)), opt(51, u32(o.lease)),
      opt(15, Buffer.from('dhcp.test')));
    if (o.t1 !== undefined) options.push(opt(58, u32(o.t1)));
    if (o.t2 !== undefined) options.push(opt(59, u32(o.t2)));
  }
  return Buffer.concat([head, ...options, ...extra, Buffer.from([255])]);
}

export class TestDhcpServer {
  readonly requests: Request[] = [];
  quiet = false;
  #naks: number;
  readonly #socket: Socket;

  constructor(stack: Stack, readonly options: ServerOptions) {
    this.#naks = options.naks ?? 0;
    this.#socket = stack.dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.#socket.on('message', (msg) => this.#answer(msg));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.bind(67, resolve));
    this.#socket.setBroadcast(true);
  }

  #send(b: Buffer): void {
    this.#socket.send(b, 68, '255.255.255.255');
  }

  #answer(msg: Buffer): void {
    const req = parseRequest(msg);
    if (!req) return;
    this.requests.push(req);
    if (this.quiet) return;
    let type = 0;
    if (req.type === 1) type = 2;
    if (req.type === 3) {
      if (req.serverId && req.serverId !== this.options.server) return;  // the client chose another server
      type = this.#naks > 0 ? (this.#naks--, 6) : 5;
    }
    if (!type) return;
    const good = reply(msg, type, this.options);
    for (const bad of this.options.noise ?? []) this.#send(bad(good));
    this.#send(good);
  }

  close(): void {
    this.#socket.close();
  }
}
