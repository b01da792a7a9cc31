// A stack with a large MTU on its VDE link (9000, the bench's bulk lever) still talks TCP with a
// standard VDE peer at MTU 1500: a whole process under `vdens` (the kernel stack of a namespace,
// bridged by vdens) on the same vxvde network. TCP's MSS negotiation keeps every segment within the
// smaller MTU, both when the stack accepts and when it connects. Data goes both ways at once and is
// checked with SHA-256 on each side.
import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import { Stack } from '../../src';
import { vxvdeGroup } from '../helpers/netns';
import { type Report, talk as talkBoth } from '../helpers/talk';

const BYTES = 4 * 1024 * 1024;
const children: ChildProcess[] = [];
const stacks: Stack[] = [];
afterEach(() => {
  for (const c of children.splice(0)) { try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ } }
  for (const s of stacks.splice(0)) s.close();
});

/** The peer, a plain node program under vdens: sends BYTES random bytes, reports what it sent and got. */
const PEER = `
const net = require('node:net'), { createHash, randomBytes } = require('node:crypto');
const [mode, host, port] = process.argv.slice(1);
const data = randomBytes(${BYTES});
const talk = (s) => {
  const got = [];
  s.on('data', (d) => got.push(d));
  s.on('end', () => {
    const b = Buffer.concat(got);
    console.log(JSON.stringify({ sent: createHash('sha256').update(data).digest('hex'), received: createHash('sha256').update(b).digest('hex'), bytes: b.length }));
  });
  s.end(data);
};
if (mode === 'server') net.createServer(talk).listen(Number(port), host, () => console.log('ready'));
else talk(net.connect(Number(port), host));
setInterval(() => {}, 1000); // the test ends it: vdens would take its namespace, and queued segments, along
`;


/** The peer under vdens on `vnl` at 10.0.0.2/24 with vde0 at its default MTU; `ip link` of vde0 first. */
function peerUnderVdens(vnl: string, args: string[]): { lines: AsyncIterableIterator<string> } {
  const quoted = args.map((a) => `'${a}'`).join(' ');
  const shell = 'ip link set lo up && ip link set vde0 up && ip addr add 10.0.0.2/24 dev vde0 && ' +
    `ip -o link show vde0 | sed -n 's/.* mtu \\([0-9]*\\) .*/\\1/p' && exec "${process.execPath}" -e "$PEER" ${quoted}`;
  const child = spawn('vdens', [vnl, 'bash', '-c', shell], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PEER } });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  async function* lines(): AsyncIterableIterator<string> {
    let buf = '';
    for await (const chunk of child.stdout!) {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) { yield buf.slice(0, i); buf = buf.slice(i + 1); }
    }
    throw new Error(`the peer under vdens ended: ${err}`);
  }
  return { lines: lines() };
}

async function nextLine(lines: AsyncIterableIterator<string>, timeoutMs = 20000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('no answer from the peer under vdens')), timeoutMs); });
  try {
    const r = await Promise.race([lines.next(), timeout]);
    return r.value as string;
  } finally {
    clearTimeout(timer);
  }
}

function bigMtuStack(vnl: string): Stack {
  const stack = new Stack('vdestack', vnl);
  stacks.push(stack);
  stack.linkSetUpDown('lo', true);
  stack.linkSetMtu('vde0', 9000);
  stack.linkSetUpDown('vde0', true);
  stack.ipAddrAdd('10.0.0.1', 24, 'vde0');
  expect(stack.linkGetMtu('vde0')).toBe(9000);
  return stack;
}

/** Both directions over one connection: the stack's side sends its own random bytes. */
const talk = (socket: net.Socket): Promise<Report> => talkBoth(socket, BYTES);

test('a stack at MTU 9000 accepts a TCP connection from a vdens process at MTU 1500; data both ways', async () => {
  const vnl = vxvdeGroup();
  const stack = bigMtuStack(vnl);
  const accepted = new Promise<Report>((resolve, reject) => {
    const server = stack.net.createServer((s) => { server.close(); talk(s).then(resolve, reject); });
    server.listen(7001, '10.0.0.1');
  });
  const peer = peerUnderVdens(vnl, ['client', '10.0.0.1', '7001']);
  expect(await nextLine(peer.lines)).toBe('1500');
  const theirs = JSON.parse(await nextLine(peer.lines, 30000)) as Report;
  const ours = await accepted;
  expect(theirs.bytes).toBe(BYTES);
  expect(ours.bytes).toBe(BYTES);
  expect(theirs.received).toBe(ours.sent);
  expect(ours.received).toBe(theirs.sent);
}, 60000);

test('a stack at MTU 9000 connects to a vdens process at MTU 1500; data both ways', async () => {
  const vnl = vxvdeGroup();
  const stack = bigMtuStack(vnl);
  const peer = peerUnderVdens(vnl, ['server', '10.0.0.2', '7002']);
  expect(await nextLine(peer.lines)).toBe('1500');
  expect(await nextLine(peer.lines)).toBe('ready');
  const ours = await talk(stack.net.connect(7002, '10.0.0.2'));
  const theirs = JSON.parse(await nextLine(peer.lines, 30000)) as Report;
  expect(theirs.bytes).toBe(BYTES);
  expect(ours.bytes).toBe(BYTES);
  expect(theirs.received).toBe(ours.sent);
  expect(ours.received).toBe(theirs.sent);
}, 60000);
