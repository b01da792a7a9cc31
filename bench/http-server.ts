// The benchmark's http server: one small JSON response per request, keep-alive.
// Usage: node dist/bench/http-server.js HOST PORT
// A plain Node program: the bench runs it on loopback, under vdens, or under
// `node --import iothts/register`. Prints "ready" when listening. BENCH_SCOPE=1 (under the hook
// only): the server listens in a scope of the hook's stack (stack.run), so that every request is
// served in an active scope, on the same addresses.
import * as http from 'node:http';

const [host, portText] = process.argv.slice(2);
const body = JSON.stringify({ hello: 'world' });
const server = http.createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(body);
});
server.keepAliveTimeout = 60000;
const listen = (): unknown => server.listen(Number(portText), host, () => console.log('ready'));
if (process.env.BENCH_SCOPE === '1') (require('iothts') as typeof import('iothts')).overridingStack()!.run(listen);
else listen();
process.on('SIGTERM', () => process.exit(0));
