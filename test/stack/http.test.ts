// http and https on stacks: servers made by Node's own modules listen through stack.net.listen(),
// clients go through stack.httpAgent() / stack.httpsAgent().
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { once, useTestNetwork } from '../helpers/network';

const [a, b] = useTestNetwork(2);

function get(url: string, options: https.RequestOptions): Promise<{ status: number; body: string; socket: string }> {
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    mod.get(url, options, (res) => {
      let body = '';
      const socket = `${res.socket.localAddress}:${res.socket.localPort}`; // pooled away by 'end'
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket }));
    }).on('error', reject);
  });
}

test('an http server on one stack, keep-alive requests from another through httpAgent()', async () => {
  const peers: string[] = [];
  const server = http.createServer((req, res) => {
    peers.push(`${req.socket.remoteAddress}:${req.socket.remotePort}`);
    res.end(JSON.stringify({ url: req.url, from: req.socket.remoteAddress }));
  });
  a.stack.net.listen(server, 8000, a.ip4);
  await once(server, 'listening');
  const agent = b.stack.httpAgent({ keepAlive: true, maxSockets: 1 });
  try {
    const replies = [];
    for (const p of ['/one', '/two', '/three']) replies.push(await get(`http://${a.ip4}:8000${p}`, { agent }));
    expect(replies.map((r) => JSON.parse(r.body))).toEqual(['/one', '/two', '/three'].map((url) => ({ url, from: b.ip4 })));
    expect(new Set(peers).size).toBe(1); // one connection, kept alive
    expect(peers[0]).toMatch(/^10\.0\.0\.2:/);
  } finally {
    agent.destroy();
    server.close();
  }
});

test('https with a self-signed certificate, both ends on stacks', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=server.test', '-addext', `subjectAltName=DNS:server.test,IP:${a.ip4}`], { stdio: 'ignore' });
    const key = fs.readFileSync(path.join(dir, 'key.pem'));
    const cert = fs.readFileSync(path.join(dir, 'cert.pem'));
    const server = https.createServer({ key, cert }, (req, res) => res.end(`secure ${req.socket.remoteAddress}`));
    a.stack.net.listen(server, { port: 8443, host: a.ip4 });
    await once(server, 'listening');
    const agent = b.stack.httpsAgent({ ca: cert });
    try {
      const reply = await get(`https://${a.ip4}:8443/`, { agent });
      expect(reply).toMatchObject({ status: 200, body: `secure ${b.ip4}` });
      expect(reply.socket).toMatch(/^10\.0\.0\.2:/);
      // and the certificate is really checked: no CA, no connection
      await expect(get(`https://${a.ip4}:8443/`, { agent: b.stack.httpsAgent() })).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    } finally {
      agent.destroy();
      server.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
