// UDP echo client on a virtual stack at 10.0.0.2/24: sends each line of stdin to 10.0.0.1:5000 as a
// datagram and prints the echo; ends at the end of stdin (waiting up to 2 s for the last echo).
// Usage: node dist/examples/udp_echo_client.js VNL          (the udp_echo_server's VNL)
import * as readline from 'node:readline';
import { Stack } from 'iothts';

const vnl = process.argv[2];
if (!vnl) {
  console.error('usage: udp_echo_client VNL');
  process.exit(2);
}
const stack = new Stack('vdestack', vnl);
stack.config('eth,ip=10.0.0.2/24');
const socket = stack.dgram.createSocket('udp4');
let pending = 0;
let ended = false;
const finish = () => { socket.close(); stack.close(); };
socket.on('message', (msg) => {
  process.stdout.write(`${msg}\n`);
  if (--pending === 0 && ended) finish();
});
socket.connect(5000, '10.0.0.1', () => {
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => { pending++; socket.send(line); });
  lines.on('close', () => {
    ended = true;
    if (pending === 0) finish();
    else setTimeout(() => { if (pending > 0) { console.error(`${pending} echo(es) lost`); process.exitCode = 1; finish(); } }, 2000).unref();
  });
});
