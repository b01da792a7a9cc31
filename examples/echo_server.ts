// TCP echo server on a virtual stack at 10.0.0.1/24, port 5000: iothpy's README example.
// Usage: node dist/examples/echo_server.js VNL        e.g. VNL = vxvde://234.0.0.1 or hub:///tmp/hub
// Pair it with echo_client on the same VNL. Ctrl-C to stop.
import { Stack } from 'iothts';

const vnl = process.argv[2];
if (!vnl) {
  console.error('usage: echo_server VNL');
  process.exit(2);
}
const stack = new Stack('vdestack', vnl);
stack.config('eth,ip=10.0.0.1/24');
const server = stack.net.createServer((socket) => {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  console.log(`connection from ${peer}`);
  socket.pipe(socket);
  socket.on('close', () => console.log(`${peer} closed`));
  socket.on('error', () => socket.destroy());
});
server.listen(5000, '10.0.0.1', () => console.log('echo server listening on 10.0.0.1:5000'));
process.on('SIGINT', () => { server.close(); stack.close(); });
process.on('SIGTERM', () => { server.close(); stack.close(); });
