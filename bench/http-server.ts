// The benchmark's http server: one small JSON response per request, keep-alive.
// Usage: node dist/bench/http-server.js HOST PORT [--stack VNL]
// With --stack it serves on an iothts stack (vdestack on VNL, HOST/24 on vde0), else on the
// namespace it runs in (the host's loopback, or a vdens namespace). Prints "ready" when listening.
import * as http from 'node:http';
import { Stack } from 'iothts';

const [host, portText, flag, vnl] = process.argv.slice(2);
const port = Number(portText);
const body = JSON.stringify({ hello: 'world' });
const server = http.createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(body);
});
server.keepAliveTimeout = 60000;

if (flag === '--stack') {
  const stack = new Stack('vdestack', vnl);
  stack.linkSetUpDown('lo', true);
  stack.linkSetUpDown('vde0', true);
  stack.ipAddrAdd(host, 24, 'vde0');
  stack.net.listen(server, port, host, () => console.log('ready'));
} else {
  server.listen(port, host, () => console.log('ready'));
}
process.on('SIGTERM', () => process.exit(0));
