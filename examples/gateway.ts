// A gateway between the host and a virtual network, in one process: an http service exists only
// on a virtual stack (10.0.0.1:80); a port on the host's loopback forwards to it through a second
// stack on the same network. Try: curl http://127.0.0.1:8080/
// Usage: node dist/examples/gateway.js [HOST_PORT=8080]      (a hub of its own: no daemon, no VNL)
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from 'iothts';

const hostPort = Number(process.argv[2] ?? 8080);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-gateway-'));
const service = new Stack('vdestack', `hub://${dir}/hub`);
service.config('eth,ip=10.0.0.1/24');
const gateway = new Stack('vdestack', `vde://${dir}/hub`);
gateway.config('eth,ip=10.0.0.254/24');

const app = http.createServer((req, res) => res.end(`virtual service at 10.0.0.1 answering ${req.url} for ${req.socket.remoteAddress}\n`));
service.net.listen(app, 80, '10.0.0.1');

// The host side: plain node:net on the host's loopback, each connection piped to the service.
const forwarder = net.createServer((client) => {
  const upstream = gateway.net.connect(80, '10.0.0.1');
  client.pipe(upstream).pipe(client);
  const end = () => { client.destroy(); upstream.destroy(); };
  client.on('error', end);
  upstream.on('error', end);
});
forwarder.listen(hostPort, '127.0.0.1', () => console.log(`forwarding 127.0.0.1:${hostPort} -> 10.0.0.1:80 (virtual)`));

const stop = () => {
  forwarder.close();
  app.close();
  gateway.close();
  service.close();
  fs.rmSync(dir, { recursive: true, force: true });
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
