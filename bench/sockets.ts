// The cost of one socket: N stack.socketFd() + close in a loop on one stack, after a warm-up.
// Usage: node dist/bench/sockets.js N PLUGIN [VNL]   (prints one JSON line)
// On vdestack, stack.socketMode tells how the sockets were made: "setns" (socket(2) by this thread
// inside the stack's namespace) or "helper" (a round trip to libioth's helper process: the way
// without CAP_SYS_ADMIN, measured by running this program under setpriv). On the kernel plugin it is
// a plain socket(2) of the process, the floor.
import * as fs from 'node:fs';
import { Stack } from 'iothts';

const [countText, plugin, vnl] = process.argv.slice(2);
const count = Number(countText);
const stack = new Stack(plugin, vnl ?? null);
for (let i = 0; i < 500; i++) fs.closeSync(stack.socketFd(4, 'tcp'));
const t = process.hrtime.bigint();
for (let i = 0; i < count; i++) fs.closeSync(stack.socketFd(4, 'tcp'));
const us = Number(process.hrtime.bigint() - t) / 1000 / count;
process.stdout.write(`${JSON.stringify({ plugin, path: stack.socketMode, sockets: count, usPerSocket: us })}\n`);
stack.close();
