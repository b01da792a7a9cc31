// The doctor's checks, in the order a vdestack stack depends on them. Each returns one finding with
// the fix for what it found wrong; the runner (index.ts) isolates them, so one that throws is
// reported as such and the others still run.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Native } from '../../internal/native';
import { detectChroot } from './chroot';
import { packageRoot } from '../../internal/package-root';
import {
  debianPackage, dlopenError, failingLibrary, groupName, libraryBase, libraryFile, packageForLibrary,
  packageInfo, run, sysctl, userName,
} from './host';

export type Status = 'ok' | 'warn' | 'fail' | 'skip';

export interface Finding {
  check: string;
  status: Status;
  summary: string;
  fix?: string;
}

/** What earlier checks learnt, for later ones. */
export interface Context {
  uid: number;
  codename: string | null;
  native?: Native;
  userns?: { ran: boolean; ok: boolean; message: string };
}

/** Node major versions the test suite runs on: package.json's iothts.testedNode (scripts/test.sh reads it too). */
export function testedNodeMajors(): number[] {
  return packageInfo().json.iothts?.testedNode ?? [];
}

const SETUP = 'sudo npx iothts setup-system';

/** An error message as one line, without the "Require stack" that module errors append (keeping
 * the parentheses that a wrapping message closed after it). */
const oneLine = (message: string): string => message
  .replace(/\nRequire stack:(?:\n- [^\n]*?)*(\)*)$/, '$1').replace(/\nRequire stack:(?:\n- [^\n]*)*/, '')
  .replace(/\s*\n\s*/g, ' ').trim();
const finding = (check: string, status: Status, summary: string, fix?: string): Finding =>
  (fix ? { check, status, summary, fix } : { check, status, summary });

/** How to install the Debian package behind a library that does not load. */
function installFix(soname: string, ctx: Context): string {
  if (libraryBase(soname) === 'libioth' && ctx.codename !== 'trixie') {
    return `${SETUP} (Debian 12 has no libioth: it installs Debian 13's libioth0 and changes nothing else)`;
  }
  const pkg = packageForLibrary(soname, ctx.codename);
  return pkg ? `sudo apt-get install --reinstall ${pkg} (or ${SETUP})` : SETUP;
}

function systemLibrary(check: string, soname: string, packages: string[], ctx: Context): Finding {
  const error = dlopenError(soname);
  if (error === null) {
    const installed = packages.map((p) => [p, debianPackage(p)]).filter(([, v]) => v).map(([p, v]) => `${p} ${v}`);
    const file = libraryFile(soname);
    return finding(check, 'ok', `${soname} loads${file ? ` (${file})` : ''}${installed.length ? `; Debian: ${installed.join(', ')}` : ''}`);
  }
  const failing = failingLibrary(error) ?? soname;
  if (libraryBase(failing) !== libraryBase(soname)) {
    return finding(check, 'fail', `${soname} is there but needs ${failing}, which does not load (${error})`, installFix(failing, ctx));
  }
  return finding(check, 'fail', `${soname} cannot be loaded: ${error}`, installFix(soname, ctx));
}

export function checkLibioth(ctx: Context): Finding {
  return systemLibrary('libioth', 'libioth.so.0', ['libioth0'], ctx);
}

export function checkLibvdeplug(ctx: Context): Finding {
  return systemLibrary('libvdeplug', 'libvdeplug.so.2', ['libvdeplug2t64', 'libvdeplug2'], ctx);
}

/** libioth's plugin directory: the addon knows it; without the addon, beside libioth itself. */
function systemPluginDir(ctx: Context): string {
  if (ctx.native) return ctx.native.pluginDir();
  const lib = libraryFile('libioth.so.0');
  return lib ? path.join(path.dirname(lib), 'ioth') : '/usr/lib/x86_64-linux-gnu/ioth';
}

function listDir(dir: string, pattern: RegExp): string[] | null {
  try {
    return [...new Set(fs.readdirSync(dir).map((f) => pattern.exec(f)?.[1]).filter((n): n is string => !!n))].sort();
  } catch {
    return null;
  }
}

export function checkPlugins(ctx: Context): Finding {
  const dirs = [path.join(process.env.HOME ?? os.homedir(), '.ioth'), systemPluginDir(ctx)];
  const found = dirs.map((dir) => ({ dir, names: listDir(dir, /^ioth_(.+?)(?:-r)?\.so$/)?.filter((n) => !n.endsWith('_n')) ?? null }));
  const where = found.map(({ dir, names }) => `${dir.replace(os.homedir(), '~')}: ${names === null ? 'absent' : names.join(', ') || 'none'}`).join('; ');
  // libioth's own order: ~/.ioth first, the reentrant "-r" build before the plain one.
  const vdestack = dirs.flatMap((d) => ['ioth_vdestack-r.so', 'ioth_vdestack.so'].map((f) => path.join(d, f))).find((f) => fs.existsSync(f));
  if (!vdestack) {
    return finding('plugins', 'fail', `no vdestack plugin (ioth_vdestack-r.so or ioth_vdestack.so) in ${where}`,
      ctx.codename === 'trixie' ? `sudo apt-get install libioth0 (it ships kernel and vdestack), or ${SETUP}` : SETUP);
  }
  const error = dlopenError(vdestack);
  if (error !== null) {
    const failing = failingLibrary(error);
    return finding('plugins', 'fail', `${vdestack} does not load: ${error}`,
      failing && libraryBase(failing) !== libraryBase(vdestack) ? installFix(failing, ctx) : installFix('libioth.so.0', ctx));
  }
  const kernel = found.some((f) => f.names?.includes('kernel'));
  return finding('plugins', kernel ? 'ok' : 'warn', `${where}; ${vdestack} loads`, kernel ? undefined : 'the kernel plugin comes with libioth0 too: reinstall it');
}

export function checkVdeplugModules(ctx: Context): Finding {
  const lib = libraryFile('libvdeplug.so.2');
  const dirs = [...(process.env.VDEPLUGIN_PATH ?? '').split(':').filter(Boolean),
    lib ? path.join(path.dirname(lib), 'vdeplug') : '/usr/lib/x86_64-linux-gnu/vdeplug'];
  const modules = new Set(dirs.flatMap((d) => listDir(d, /^libvdeplug_(\w+)\.so$/) ?? []));
  const where = dirs.join(', ');
  if (modules.size === 0) {
    return finding('vdeplug modules', 'fail', `none in ${where}`, `sudo apt-get install ${ctx.codename === 'bookworm' ? 'libvdeplug2' : 'libvdeplug2t64'} libvdeplug-slirp`);
  }
  const listed = [...modules].sort().join(' ');
  const core = ['null', 'vde', 'vxvde', 'hub', 'switch', 'ptp'].filter((m) => !modules.has(m));
  if (!modules.has('slirp')) {
    return finding('vdeplug modules', 'warn', `${listed} in ${where}; no slirp, the launcher's default VNL (slirp://)`, 'sudo apt-get install libvdeplug-slirp');
  }
  if (core.length) {
    return finding('vdeplug modules', 'warn', `${listed} in ${where}; missing ${core.join(' ')}`, 'reinstall libvdeplug (Debian: libvdeplug2t64 or libvdeplug2)');
  }
  return finding('vdeplug modules', 'ok', `${listed} (${where})`);
}

export function checkAddon(ctx: Context): Finding {
  try {
    // The package's own loading (src/internal/native.ts), whatever way it finds the addon: it loads
    // at first use, and throws when it cannot.
    const { native } = require('../../internal/native') as typeof import('../../internal/native');
    void native.constants;
    ctx.native = native;
  } catch (err) {
    return finding('addon', 'fail', oneLine((err as Error).message),
      'in a clone: npm run build; an installed package: reinstall it; when libioth is the cause, see the libioth line');
  }
  const file = Object.keys(require.cache).find((f) => f.endsWith('.node'));
  return finding('addon', 'ok', `loaded${file ? ` ${file}` : ''}`);
}

const ERRNO_TEXT: Record<string, string> = {
  'Operation not permitted': 'EPERM', 'No space left on device': 'ENOSPC', 'Invalid argument': 'EINVAL',
  'Permission denied': 'EACCES', 'Function not implemented': 'ENOSYS',
};

function probeUserns(): { ran: boolean; ok: boolean; message: string } {
  // What vdestack does when it makes a stack: a new user namespace mapping this user to root, and a
  // network namespace owned by it. unshare(1) is util-linux's, essential in Debian.
  const r = run('unshare', ['--user', '--map-root-user', '--net', 'true']);
  if (r.error?.code === 'ENOENT') return { ran: false, ok: false, message: 'unshare (util-linux) is not installed' };
  if (r.status === 0) return { ran: true, ok: true, message: 'unshare --user --map-root-user --net works' };
  let message = (r.stderr.trim().split('\n')[0] || r.error?.message || `exit status ${r.status}`).replace(/^unshare: /, '');
  for (const [text, code] of Object.entries(ERRNO_TEXT)) if (message.includes(text)) message = `${code}: ${message}`;
  return { ran: true, ok: false, message: `unshare --user --map-root-user --net: ${message}` };
}

export function checkUserNamespaces(ctx: Context): Finding {
  const clone = sysctl('kernel/unprivileged_userns_clone');
  const max = sysctl('user/max_user_namespaces');
  const apparmor = sysctl('kernel/apparmor_restrict_unprivileged_userns');
  const settings = [`unprivileged_userns_clone ${clone ?? 'absent (not needed)'}`, `max_user_namespaces ${max ?? 'absent'}`,
    ...(apparmor !== null ? [`apparmor_restrict_unprivileged_userns ${apparmor}`] : [])].join(', ');
  const probe = ctx.userns = probeUserns();
  if (probe.ok) return finding('user namespaces', 'ok', `${probe.message} (${settings})`);
  const fixes: string[] = [];
  if (max === '0') fixes.push('sudo sysctl -w user.max_user_namespaces=15000 (and in /etc/sysctl.d/ to keep it)');
  if (ctx.uid !== 0 && clone === '0') fixes.push('sudo sysctl -w kernel.unprivileged_userns_clone=1 (and in /etc/sysctl.d/ to keep it)');
  if (ctx.uid !== 0 && apparmor === '1') fixes.push('an AppArmor profile that allows userns for node, or sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0');
  if (!probe.ran) {
    return finding('user namespaces', fixes.length ? 'fail' : 'skip', `${probe.message}, cannot try (${settings})`, fixes.join('; ') || undefined);
  }
  if (!fixes.length && /EPERM/.test(probe.message)) fixes.push('see the chroot line; otherwise a seccomp or security policy refuses them');
  return finding('user namespaces', 'fail', `${probe.message} (${settings})`, fixes.join('; ') || undefined);
}

const TUN_FIX = 'the host\'s administrator decides: `chmod 0666 /dev/net/tun` (Debian\'s default mode; until reboot), ' +
  'or for good a udev rule `KERNEL=="tun", MODE="0666"` in /etc/udev/rules.d/60-tun.rules; 0666 lets every user make ' +
  'tap devices, only inside network namespaces of their own; or run the app as root';

export function checkTun(ctx: Context): Finding {
  const file = '/dev/net/tun';
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    return finding(file, 'fail', `missing (${(err as NodeJS.ErrnoException).code})`,
      'as root: modprobe tun (it makes the device); in a container, pass the device in (e.g. --device /dev/net/tun)');
  }
  const major = Math.floor(st.rdev / 256) & 0xfff;
  const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
  if (!st.isCharacterDevice() || major !== 10 || minor !== 200) {
    return finding(file, 'fail', 'is not the tun device (character device 10, 200)', 'as root: rm it, then modprobe tun, or mknod -m 0666 /dev/net/tun c 10 200');
  }
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
  const who = `mode ${mode} ${userName(st.uid)}:${groupName(st.gid)}`;
  const me = `this user (uid ${ctx.uid})`;
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_RDWR));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') return finding(file, 'fail', `${who}, ${me} cannot open it, so vdestack cannot make its tap`, TUN_FIX);
    if (code === 'EPERM') return finding(file, 'fail', `${who}, opening it: EPERM (a device cgroup refuses it: a container without the device)`, 'give the container /dev/net/tun (e.g. --device /dev/net/tun)');
    return finding(file, 'fail', `${who}, opening it: ${code}`, code === 'ENODEV' || code === 'ENXIO' ? 'as root: modprobe tun' : undefined);
  }
  if (ctx.uid === 0 && (st.mode & 0o006) !== 0o006) {
    return finding(file, 'warn', `${who}: root can open it, other users cannot (they cannot make vdestack stacks)`, TUN_FIX);
  }
  return finding(file, 'ok', `${who}, ${me} can open it`);
}

const CHROOT_FIX = 'enter the root through a private mount namespace and pivot_root, as containers do ' +
  '(e.g. unshare -m, mount --rbind ROOT ROOT, cd ROOT, pivot_root . OLD, umount -l OLD, exec chroot . CMD), or use a container runtime';

export function checkChroot(ctx: Context): Finding {
  const found = detectChroot();
  const probe = ctx.userns;
  if (probe?.ok) return finding('chroot', 'ok', `not in a chroot: user namespaces can be created (${found.evidence})`);
  const refused = probe?.ran && /EPERM/.test(probe.message);
  if (found.chrooted) {
    return finding('chroot', 'fail', `this process is in a chroot (${found.evidence}); the kernel refuses user namespaces to chrooted processes${refused ? ' (EPERM, as seen)' : ''}`, CHROOT_FIX);
  }
  if (found.chrooted === null && refused && ctx.uid === 0) {
    return finding('chroot', 'fail', `probably a chroot: user namespaces are refused (EPERM) to root, which the kernel does in a chroot (${found.evidence}), unless a seccomp or security policy does it`, CHROOT_FIX);
  }
  if (found.chrooted === null && refused) {
    return finding('chroot', 'warn', `maybe a chroot: user namespaces are refused (EPERM) and ${found.evidence}; a chroot, or the settings or a policy of the user namespaces line`, `if this is a chroot: ${CHROOT_FIX}`);
  }
  return finding('chroot', 'ok', `no sign of a chroot (${found.evidence})`);
}

function parseMinimum(range: string | undefined): number[] | null {
  const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range?.trim() ?? '');
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : null;
}

export function checkNode(): Finding {
  const range = packageInfo().json.engines?.node;
  const have = process.versions.node.split('.').map(Number);
  const majors = testedNodeMajors();
  const tested = `tested: Node ${majors.join(', ')}`;
  const min = parseMinimum(range);
  if (!min) return finding('node', 'warn', `${process.version}; the package's engines.node (${range ?? 'absent'}) is not a plain >= range; ${tested}`);
  const older = have[0] !== min[0] ? have[0] < min[0] : have[1] !== min[1] ? have[1] < min[1] : have[2] < min[2];
  if (older) return finding('node', 'fail', `${process.version} is older than the package needs (${range}); ${tested}`, `install Node.js ${min.join('.')} or later`);
  if (!majors.includes(have[0])) return finding('node', 'warn', `${process.version} (needs ${range}) is not among the versions the suite runs on (${tested})`);
  return finding('node', 'ok', `${process.version} (needs ${range}; ${tested})`);
}

const STACK_PROBE = `
try {
  const { Stack } = require(process.argv[1]);
  const started = process.hrtime.bigint();
  const stack = new Stack(process.argv[2], 'null://');
  const links = stack.ifNameIndex().map((l) => l.name);
  stack.close({ linger: 0 });
  console.log(JSON.stringify({ ok: true, links, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, code: err.code, message: err.message }));
}`;

/** The real thing, in a child process so that a hang or a crash of the addon is a finding too. */
function probeStack(check: string, plugin: string, findings: Finding[]): Finding {
  const call = `new Stack('${plugin}', 'null://')`;
  const index = path.join(packageRoot(), 'dist', 'main.js');
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // an --import iothts/register there would put the probe itself under the hook
  const r = spawnSync(process.execPath, ['-e', STACK_PROBE, index, plugin], { encoding: 'utf8', timeout: 30000, env });
  const failed = findings.filter((f) => f.status === 'fail').map((f) => f.check);
  const fix = failed.length ? `the FAIL lines above (${failed.join(', ')})` : undefined;
  if (r.error || r.signal) {
    const why = r.signal ? `the probe process ended by ${r.signal}${r.error ? ' (no answer in 30 s)' : ''}` : r.error!.message;
    return finding(check, 'fail', `${call}: ${why}`, fix);
  }
  let answer: { ok: boolean; links?: string[]; ms?: number; code?: string; message?: string };
  try {
    answer = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
  } catch {
    return finding(check, 'fail', `${call}: the probe process said nothing usable (status ${r.status}): ${(r.stderr || r.stdout).trim().split('\n')[0]}`, fix);
  }
  if (!answer.ok) return finding(check, 'fail', `${call}: ${oneLine(answer.message ?? String(answer.code))}`, fix);
  return finding(check, 'ok', `${call} made (interfaces ${answer.links?.join(', ')}) and closed in ${Math.round(answer.ms ?? 0)} ms`);
}

/** A vdestack stack, the default's: `stack`. */
export function checkStack(findings: Finding[]): Finding {
  return probeStack('stack', 'vdestack', findings);
}

/** A stack of iothts's own plugin: a warning only when it fails (vdestack is one option away). */
export function checkVdebridge(findings: Finding[]): Finding {
  const found = probeStack('vdebridge', 'vdebridge', findings);
  return found.status === 'fail' ? { ...found, status: 'warn' } : found;
}
