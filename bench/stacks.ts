// Stack creation and deletion time, and memory per stack: N vdestack stacks on one VNL in this
// process. Usage: node --expose-gc dist/bench/stacks.js N VNL [PLUGIN [HEAP_MB]]   (prints one JSON
// line; PLUGIN defaults to vdestack; HEAP_MB of Node heap are allocated and kept before the stacks)
//
// Memory: a vdestack stack is a helper process clone()d from this one (no CLONE_VM: it shares the
// pages it has not written, copy-on-write) plus kernel objects (a user and a network namespace, a
// tap, a vxvde socket) that no process's RSS shows. PSS (proportional set size, smaps_rollup) of
// this process and of its helpers counts each shared page once in total, so the PSS growth divided
// by N is what the stacks cost in user memory. The RSS of one helper is given too.
import * as fs from 'node:fs';
import { Stack } from 'iothts';

const [countText, vnl, plugin = 'vdestack', heapText = '0'] = process.argv.slice(2);
// Kept alive to the end: a process of that size making stacks (arrays of small objects: V8 heap).
const heap = Array.from({ length: Number(heapText) }, (_, i) => Array.from({ length: 1 << 14 }, (_, j) => ({ i, j })));
const count = Number(countText);
const now = () => Number(process.hrtime.bigint()) / 1e6;

function rollup(pid: number | 'self'): { pss: number; rss: number } {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { pss: kb('Pss') / 1024, rss: kb('Rss') / 1024 };
}

function children(): number[] {
  const pids: number[] = [];
  for (const tid of fs.readdirSync('/proc/self/task')) {
    const text = fs.readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
    if (text) pids.push(...text.split(/\s+/).map(Number));
  }
  return pids;
}

const total = () => rollup('self').pss + children().reduce((sum, pid) => sum + rollup(pid).pss, 0);

// Warm up: the addon, libioth, the plugin and vdeplug's modules loaded, the code paths compiled.
new Stack(plugin, vnl).close();
global.gc?.();
const before = total();
const stacks: Stack[] = [];
const createMs: number[] = [];
for (let i = 0; i < count; i++) {
  const t = now();
  stacks.push(new Stack(plugin, vnl));
  createMs.push(now() - t);
}
global.gc?.();
const after = total();
const helpers = children();
const helperRss = helpers.map((pid) => rollup(pid).rss).sort((x, y) => x - y);
// Work after creation: Node's heap moves, the helpers keep their copy-on-write copy of the old one.
const garbage: Buffer[] = [];
for (let i = 0; i < 50; i++) garbage.push(Buffer.alloc(1024 * 1024, i));
garbage.length = 0;
for (let i = 0; i < 20; i++) JSON.parse(JSON.stringify(Array.from({ length: 20000 }, (_, j) => ({ j, s: `x${j}` }))));
global.gc?.();
const afterWork = total();
const t = now();
for (const s of stacks) s.close();
const deleteMs = (now() - t) / count;
const sorted = [...createMs].sort((x, y) => x - y);
process.stdout.write(`${JSON.stringify({
  stacks: count,
  helpers: helpers.length,
  createMs: createMs.reduce((x, y) => x + y, 0) / count,
  createMedianMs: sorted[Math.floor(count / 2)],
  createMaxMs: sorted[count - 1],
  deleteMs,
  pssPerStackMB: (after - before) / count,
  pssPerStackAfterWorkMB: (afterWork - before) / count,
  helperRssMB: helperRss[Math.floor(helperRss.length / 2)] ?? 0,
  nodeRssMB: rollup('self').rss,
  heapMB: heap.length ? Math.round(process.memoryUsage().heapUsed / 2 ** 20) : 0,
})}\n`);
