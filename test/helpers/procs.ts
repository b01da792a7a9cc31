// Process and descriptor accounting from /proc, to check that stacks leave nothing behind.
import * as fs from 'node:fs';
import { until } from './until';

/** Live (non-zombie) child processes of `pid`. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statOf(Number(entry));
    if (stat && stat.ppid === pid && stat.state !== 'Z') out.push(Number(entry));
  }
  return out;
}

/** "PID (command, state S)" for each of `pids`, for a failure's message. */
export function describeProcesses(pids: number[]): string {
  return pids.map((pid) => {
    try {
      const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return `${pid} ${text.slice(text.indexOf('('), text.lastIndexOf(')') + 1)} state ${text[text.lastIndexOf(')') + 2]}`;
    } catch {
      return `${pid} (gone)`;
    }
  }).join(', ');
}

export function isAlive(pid: number): boolean {
  const stat = statOf(pid);
  return stat !== null && stat.state !== 'Z';
}

function statOf(pid: number): { state: string; ppid: number } | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], ppid: Number(fields[1]) };
  } catch {
    return null;
  }
}

export function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Waits until `pids` are all gone; returns how long it took in ms, or throws after `limitMs`. */
export async function waitGone(pids: number[], limitMs: number): Promise<number> {
  const start = Date.now();
  await until(() => `processes ${pids.filter(isAlive).join(', ')} gone`, () => !pids.some(isAlive), { timeout: limitMs, interval: 20 });
  return Date.now() - start;
}
