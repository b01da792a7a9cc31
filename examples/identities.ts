// Several identities in one process: three stacks, each serving http on its own address of one
// virtual network, and a fourth that asks each of them who they are.
// Usage: node dist/examples/identities.js                 (a hub of its own: no daemon, no VNL)
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from 'iothts';

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-identities-'));
  const names = ['alice', 'bob', 'carol'];
  const stacks = names.map((_name, i) => {
    const stack = new Stack('vdestack', i === 0 ? `hub://${dir}/hub` : `vde://${dir}/hub`);
    stack.config(`eth,ip=10.0.0.${i + 1}/24`);
    return stack;
  });
  const servers = stacks.map((stack, i) => stack.net.listen(
    http.createServer((req, res) => res.end(`I am ${names[i]} at 10.0.0.${i + 1}, you are ${req.socket.remoteAddress}`)), 80));
  const asker = new Stack('vdestack', `vde://${dir}/hub`);
  asker.config('eth,ip=10.0.0.100/24');
  const agent = asker.httpAgent();
  try {
    for (let i = 0; i < names.length; i++) {
      const answer = await new Promise<string>((resolve, reject) => {
        http.get(`http://10.0.0.${i + 1}/`, { agent }, (res) => {
          let body = '';
          res.on('data', (d) => { body += d; });
          res.on('end', () => resolve(body));
        }).on('error', reject);
      });
      console.log(answer);
    }
  } finally {
    agent.destroy();
    for (const s of servers) s.close();
    for (const s of [asker, ...stacks].reverse()) s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`identities: ${err.message}`);
  process.exitCode = 1;
});
