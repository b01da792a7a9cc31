// The iothts demo: two virtual TCP/IP stacks in this one process, joined by a VDE hub that the
// first stack hosts itself (no daemon, no root, no traffic outside the machine). An http server
// runs on one stack at 10.0.0.1, a client on the other at 10.0.0.2 fetches from it, and the demo
// checks that the request really crossed the virtual network.
//
// Usage: npm run demo        (after scripts/setup.sh; or scripts/demo.sh does both)
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from 'iothts';

const say = (text: string) => console.log(`  ${text}`);

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-demo-'));
  const hub = path.join(dir, 'hub');
  const stacks: Stack[] = [];
  try {
    console.log('1. Two stacks, one virtual Ethernet');
    const server = new Stack('vdestack', `hub://${hub}`);
    const client = new Stack('vdestack', `vde://${hub}`);
    stacks.push(server, client);
    for (const [stack, ip] of [[server, '10.0.0.1'], [client, '10.0.0.2']] as const) {
      stack.linkSetUpDown('vde0', true);
      stack.ipAddrAdd(ip, 24, 'vde0');
      say(`stack ${ip}: vde0 ${stack.linkGetAddr('vde0')}, addresses ${stack.interfaces().vde0?.map((a) => a.cidr).join(' ')}`);
    }
    say(`the hub is a socket at ${hub}, hosted inside this process by the first stack`);

    console.log('2. An http server on the stack at 10.0.0.1');
    const seen: string[] = [];
    const app = http.createServer((req, res) => {
      seen.push(`${req.socket.remoteAddress}:${req.socket.remotePort}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ hello: 'from a virtual stack', you: req.socket.remoteAddress, path: req.url }));
    });
    await new Promise<void>((resolve, reject) => {
      app.once('error', reject);
      app.listen({ fd: server.socketFd(4, 'tcp') }, resolve); // an ephemeral port on all its addresses
    });
    const { port } = app.address() as net.AddressInfo;
    say(`listening on 10.0.0.1:${port} (that address exists only on the virtual network)`);

    console.log('3. A client on the stack at 10.0.0.2 fetches from it');
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.get(`http://10.0.0.1:${port}/demo`, {
        createConnection: () => new net.Socket({ fd: client.socketFd(4, 'tcp') }).connect(port, '10.0.0.1'),
        timeout: 10000,
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve(text));
      });
      req.on('timeout', () => req.destroy(new Error('the request timed out')));
      req.on('error', reject);
    });
    say(`GET http://10.0.0.1:${port}/demo -> ${body}`);
    app.close();

    const answer = JSON.parse(body);
    const hostHas = Object.values(os.networkInterfaces()).flat().some((a) => a?.address === '10.0.0.2');
    if (answer.you !== '10.0.0.2' || !seen[0]?.startsWith('10.0.0.2:') || hostHas) {
      throw new Error(`the request did not come through the virtual network (server saw ${seen.join(', ') || 'nothing'})`);
    }
    console.log('4. Checked: the server saw the client as 10.0.0.2, an address the host does not have.');
    console.log('Demo passed.');
  } finally {
    for (const s of stacks.reverse()) s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`Demo failed: ${err instanceof Error ? err.message : err}`);
  process.exitCode = 1;
});
