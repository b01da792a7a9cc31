// UDP echo server on a virtual stack at 10.0.0.1/24, port 5000.
// Usage: node dist/examples/udp_echo_server.js VNL          Pair it with udp_echo_client.
import { Stack } from 'iothts';

const vnl = process.argv[2];
if (!vnl) {
  console.error('usage: udp_echo_server VNL');
  process.exit(2);
}
const stack = new Stack('vdestack', vnl);
stack.config('eth,ip=10.0.0.1/24');
const socket = stack.dgram.createSocket('udp4');
socket.on('message', (msg, peer) => {
  console.log(`${msg.length} bytes from ${peer.address}:${peer.port}`);
  socket.send(msg, peer.port, peer.address);
});
socket.bind(5000, '10.0.0.1', () => console.log('udp echo server on 10.0.0.1:5000'));
const stop = () => { socket.close(); stack.close(); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
