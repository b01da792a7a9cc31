// Tenants: one process, several network identities for unmodified code. Three stacks on one virtual
// network (a hub hosted by a fourth stack, so no daemon and no VNL to give), each running the same
// plain `fetch` loop in its scope (stack.run), concurrently; the server, listening on the fourth
// stack with plain node:http in its own scope, prints each client's address.
// Usage: node dist/examples/tenants.js [ROUNDS]
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from 'iothts';

const ROUNDS = Number(process.argv[2] ?? 5);

/** Unmodified code: it knows nothing of stacks. */
async function fetchLoop(name: string): Promise<string> {
  const seen = new Set<string>();
  for (let i = 0; i < ROUNDS; i++) seen.add(await (await fetch('http://10.0.0.1/')).text());
  return `${name}: ${ROUNDS} requests, seen as ${[...seen].join(', ')}`;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-tenants-'));
  const stacks: Stack[] = [];
  const stackAt = (n: number): Stack => {
    const stack = new Stack('vdestack', n === 1 ? `hub://${dir}/hub` : `vde://${dir}/hub`);
    stacks.push(stack);
    stack.config(`eth,ip=10.0.0.${n}/24`);
    return stack;
  };
  const counts = new Map<string, number>();
  try {
    const serverStack = stackAt(1);
    const server = await serverStack.run(() => new Promise<http.Server>((resolve) => {
      const s = http.createServer((req, res) => {
        const from = req.socket.remoteAddress!.replace(/^::ffff:/, '');
        counts.set(from, (counts.get(from) ?? 0) + 1);
        res.end(from);
      });
      s.listen(80, () => resolve(s));
    }));
    const tenants = ['alice', 'bob', 'carol'].map((name, i) => ({ name, stack: stackAt(i + 2) }));
    const lines = await Promise.all(tenants.map(({ name, stack }) => stack.run(fetchLoop, name)));
    for (const line of lines) console.log(line);
    console.log(`server saw ${[...counts].sort().map(([from, n]) => `${from} ${n} times`).join(', ')}`);
    server.closeAllConnections();
    server.close();
  } finally {
    for (const s of stacks.reverse()) s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`tenants: ${err.message}`);
  process.exitCode = 1;
});
