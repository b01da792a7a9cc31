// `iothts doctor`: checks what a vdestack stack needs on this machine, one line per check with the
// fix for what is wrong, and finally tries to make a stack. Exit status 0 only when no check fails,
// and the last one is the stack itself. The checks are isolated: one that throws is a finding, and
// the others still run (even without the addon).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import {
  checkAddon, checkChroot, checkLibioth, checkLibvdeplug, checkNode, checkPlugins, checkStack, checkVdebridge, checkTun,
  checkUserNamespaces, checkVdeplugModules, type Context, type Finding,
} from './checks';
import { debianCodename } from './host';

export type { Finding } from './checks';

export const DOCTOR_USAGE = `Usage: iothts doctor [--json]

Checks what a vdestack stack needs on this machine (libioth, its plugins, vdeplug modules, the
addon, user namespaces, /dev/net/tun, chroot, Node.js), prints each finding with its fix, then
makes a stack (new Stack('vdestack', 'null://')) and closes it.

Options:
      --json    the findings as JSON: { ok, uid, checks: [{ check, status, summary, fix? }] }
  -h, --help    this help

Exit status: 0 when no check fails (then a vdestack stack can be made), 1 otherwise.`;

function isolated(check: string, run: () => Finding): Finding {
  try {
    return run();
  } catch (err) {
    return { check, status: 'fail', summary: `the check itself failed: ${(err as Error)?.message ?? err}` };
  }
}

export function runChecks(): Finding[] {
  const ctx: Context = { uid: process.getuid?.() ?? -1, codename: debianCodename() };
  const checks: [string, () => Finding][] = [
    ['libioth', () => checkLibioth(ctx)],
    ['libvdeplug', () => checkLibvdeplug(ctx)],
    ['addon', () => checkAddon(ctx)],
    ['plugins', () => checkPlugins(ctx)],
    ['vdeplug modules', () => checkVdeplugModules(ctx)],
    ['user namespaces', () => checkUserNamespaces(ctx)],
    ['/dev/net/tun', () => checkTun(ctx)],
    ['chroot', () => checkChroot(ctx)],
    ['node', () => checkNode()],
  ];
  const findings = checks.map(([name, run]) => isolated(name, run));
  findings.push(isolated('stack', () => checkStack(findings)));
  findings.push(isolated('vdebridge', () => checkVdebridge(findings)));
  return findings;
}

const LABEL = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' } as const;

export function formatFinding(f: Finding): string {
  return `${LABEL[f.status]} ${f.check}: ${f.summary}${f.fix ? ` — fix: ${f.fix}` : ''}`;
}

/** Runs `iothts doctor ARGS`; returns the exit status. */
export function doctorMain(args: string[]): number {
  if (fs.existsSync('doctor')) {
    process.stderr.write('iothts doctor: (to run ./doctor as an app instead: iothts -- doctor, or iothts ./doctor)\n');
  }
  let json: boolean;
  try {
    const { values } = parseArgs({ args, strict: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      process.stdout.write(`${DOCTOR_USAGE}\n`);
      return 0;
    }
    json = values.json ?? false;
  } catch (err) {
    process.stderr.write(`iothts doctor: ${(err as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  const uid = process.getuid?.() ?? -1;
  const findings = runChecks();
  const failed = findings.filter((f) => f.status === 'fail');
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok: failed.length === 0, uid, checks: findings }, null, 2)}\n`);
  } else {
    const release = debianCodename();
    process.stdout.write(`iothts doctor: uid ${uid}, ${release ? `Debian ${release}, ` : ''}Linux ${os.release()}, Node ${process.version}\n`);
    for (const f of findings) process.stdout.write(`${formatFinding(f)}\n`);
    const stackOk = findings[findings.length - 1].status === 'ok';
    process.stdout.write(failed.length === 0 ? 'iothts doctor: a vdestack stack can be made here\n'
      : `iothts doctor: ${stackOk ? 'a vdestack stack can be made, but ' : ''}${failed.length} check${failed.length > 1 ? 's' : ''} failed: ${failed.map((f) => f.check).join(', ')}\n`);
  }
  return failed.length === 0 ? 0 : 1;
}
