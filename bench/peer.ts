// One end of a benchmark case: the same plain Node program in the three setups (on loopback, whole
// process under vdens, under `node --import iothts/register`). It knows nothing of iothts.
//
//   node dist/bench/peer.js bulk-server HOST PORT            prints "ready", then one JSON line
//   node dist/bench/peer.js bulk-client HOST PORT MIB        sends MIB MiB, prints one JSON line
//   node dist/bench/peer.js conn-server HOST PORT            accepts and closes at once
//   node dist/bench/peer.js conn-client HOST PORT SECONDS CONCURRENCY
//   node dist/bench/peer.js udp-server HOST PORT             echoes datagrams
//   node dist/bench/peer.js udp-client HOST PORT SECONDS CONCURRENCY
//
// A client prints one JSON line with its figures; the bulk server prints the SHA-256 of what it
// received, which the bench compares with the client's SHA-256 of what it sent.
import { createHash } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as net from 'node:net';

const [role, host, portText, ...rest] = process.argv.slice(2);
const port = Number(portText);
const report = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
const now = () => Number(process.hrtime.bigint()) / 1e9;

function bulkServer(): void {
  const server = net.createServer((s) => {
    const hash = createHash('sha256');
    let bytes = 0;
    s.on('data', (d) => { hash.update(d); bytes += d.length; });
    s.on('end', () => {
      report({ sha256: hash.digest('hex'), bytes });
      // No server.close() and exit here: a process on an iothts stack that exits takes its stack
      // with it (helper, tap, namespace), and with them the FIN still queued in its socket; the
      // client would wait forever. The bench ends this process once the client has reported.
      s.end();
    });
  });
  server.listen(port, host, () => console.log('ready'));
}

function bulkClient(mib: number): void {
  // A pseudo-random 1 MiB block, its first word the block number: every MiB differs.
  const block = Buffer.alloc(1024 * 1024);
  for (let j = 0; j < block.length; j += 4) block.writeUInt32LE((j * 2654435761) >>> 0, j);
  const hash = createHash('sha256');
  const began = now();
  const socket = net.connect(port, host, async () => {
    for (let i = 0; i < mib; i++) {
      const b = Buffer.from(block);
      b.writeUInt32LE(i, 0);
      hash.update(b);
      if (!socket.write(b)) await new Promise((r) => socket.once('drain', r));
    }
    socket.end();
  });
  socket.resume();
  socket.on('end', () => {
    const seconds = now() - began;
    report({ sha256: hash.digest('hex'), bytes: mib * 1048576, seconds, mbps: (mib * 1.048576) / seconds });
    socket.destroy();
  });
}

function connServer(): void {
  // The server closes first, so TIME_WAIT stays on its side and the client never runs out of ports.
  net.createServer((s) => { s.on('error', () => {}); s.end(); }).listen({ port, host, backlog: 1024 }, () => console.log('ready'));
}

function connClient(seconds: number, concurrency: number): void {
  let done = 0;
  let errors = 0;
  const began = now();
  const deadline = began + seconds;
  let running = concurrency;
  const finish = () => {
    if (--running > 0) return;
    const elapsed = now() - began;
    report({ connections: done, errors, seconds: elapsed, rate: done / elapsed });
  };
  const loop = () => {
    if (now() >= deadline) return finish();
    const s = net.connect(port, host);
    s.resume();
    s.on('error', () => { errors++; });
    s.on('close', (hadError) => {
      if (!hadError) done++;
      if (errors > 100) throw new Error(`conn-client: ${errors} errors`);
      loop();
    });
  };
  for (let i = 0; i < concurrency; i++) loop();
}

function udpServer(): void {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
  socket.bind(port, host, () => console.log('ready'));
}

function udpClient(seconds: number, concurrency: number): void {
  const socket = dgram.createSocket('udp4');
  // `concurrency` request/response loops; a datagram lost (none expected) is sent again after 200 ms.
  const sentAt = new Array<number>(concurrency).fill(0);
  const payload = Buffer.alloc(64);
  let answered = 0;
  let resent = 0;
  let began = 0;
  let deadline = 0;
  let open = concurrency;
  const send = (slot: number) => {
    payload.writeUInt32LE(slot, 0);
    sentAt[slot] = now();
    socket.send(payload, port, host);
  };
  const end = () => {
    clearInterval(sweeper);
    const elapsed = now() - began;
    report({ datagrams: answered, resent, seconds: elapsed, rate: answered / elapsed });
    socket.close();
  };
  socket.on('message', (msg) => {
    const slot = msg.readUInt32LE(0);
    if (slot >= concurrency || sentAt[slot] < 0) return;
    answered++;
    if (now() < deadline) return send(slot);
    sentAt[slot] = -1;
    if (--open === 0) end();
  });
  const sweeper = setInterval(() => {
    const t = now();
    for (let slot = 0; slot < concurrency; slot++) {
      if (sentAt[slot] > 0 && t - sentAt[slot] > 0.2) {
        if (t >= deadline) { sentAt[slot] = -1; if (--open === 0) end(); } else { resent++; send(slot); }
      }
    }
  }, 100);
  socket.bind(0, () => {
    began = now();
    deadline = began + seconds;
    for (let slot = 0; slot < concurrency; slot++) send(slot);
  });
}

switch (role) {
  case 'bulk-server': bulkServer(); break;
  case 'bulk-client': bulkClient(Number(rest[0])); break;
  case 'conn-server': connServer(); break;
  case 'conn-client': connClient(Number(rest[0]), Number(rest[1])); break;
  case 'udp-server': udpServer(); break;
  case 'udp-client': udpClient(Number(rest[0]), Number(rest[1])); break;
  default:
    console.error(`peer: unknown role ${role}`);
    process.exit(2);
}
process.on('SIGTERM', () => process.exit(0));
