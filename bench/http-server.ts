// The benchmark's http server: one small JSON response per request, keep-alive.
// Usage: node dist/bench/http-server.js HOST PORT
// A plain Node program: the bench runs it on loopback, under vdens, or under
// `node --import iothts/register`. Prints "ready" when listening.
import * as http from 'node:http';

const [host, portText] = process.argv.slice(2);
const body = JSON.stringify({ hello: 'world' });
const server = http.createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(Number(portText), host, () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
