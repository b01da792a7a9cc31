// Interactive TCP echo client on a virtual stack at 10.0.0.2/24: sends each line of stdin to
// 10.0.0.1:5000 and prints what comes back; ends at the end of stdin.
// Usage: node dist/examples/echo_client.js VNL        (the echo_server's VNL)
import * as readline from 'node:readline';
import { Stack } from 'iothts';

const vnl = process.argv[2];
if (!vnl) {
  console.error('usage: echo_client VNL');
  process.exit(2);
}
const stack = new Stack('vdestack', vnl);
stack.config('eth,ip=10.0.0.2/24');
const socket = stack.net.connect(5000, '10.0.0.1', () => console.error('connected to 10.0.0.1:5000'));
socket.setEncoding('utf8');
socket.on('data', (text: string) => process.stdout.write(text));
socket.on('error', (err) => { console.error(`echo_client: ${err.message}`); process.exitCode = 1; });
socket.on('close', () => stack.close());
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => socket.write(`${line}\n`));
lines.on('close', () => socket.end());
