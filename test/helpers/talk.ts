// Both directions over one TCP connection, checked end to end: each side sends its own random
// bytes and reports the SHA-256 of what it sent and of what it received.
import { createHash, randomBytes } from 'node:crypto';
import type * as net from 'node:net';

export interface Report { role?: string; sent: string; received: string; bytes: number; error?: string }

export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Sends `bytes` random bytes on `socket` (then ends it) while it reads the other side's. */
export function talk(socket: net.Socket, bytes: number): Promise<Report> {
  const data = randomBytes(bytes);
  const got: Buffer[] = [];
  socket.on('data', (d) => got.push(d));
  const done = new Promise<Report>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('end', () => {
      const b = Buffer.concat(got);
      resolve({ sent: sha(data), received: sha(b), bytes: b.length });
    });
  });
  socket.end(data);
  return done;
}
