// `iothts doctor` and `iothts setup-system`, run as the command they are, on this machine and on
// hosts made to differ from it in private mount namespaces: /dev/net/tun 0600 for a plain user, a
// libioth that does not load, a chroot into a plain directory or into a bind of /, and the same
// root entered through pivot_root. Nothing of the host is changed: every mount dies with its namespace.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const launcher = path.join(root, 'bin', 'iothts.js');
const CHECKS = ['libioth', 'libvdeplug', 'addon', 'plugins', 'vdeplug modules', 'user namespaces', '/dev/net/tun', 'chroot', 'node', 'stack', 'vdebridge'];

interface Finding { check: string; status: 'ok' | 'warn' | 'fail' | 'skip'; summary: string; fix?: string }
interface Report { ok: boolean; uid: number; checks: Finding[] }

// Making device nodes, mount namespaces and other users takes root of the initial user namespace.
const initRoot = fs.readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/).join(' ') === '0 0 4294967295';
const asRoot = initRoot ? test : test.skip;

let tmp: string;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-doctor-')); });
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs a shell script in a private mount namespace; "$DOCTOR ARGS" in it runs the doctor. */
function inMountNamespace(script: string, env: Record<string, string> = {}) {
  return spawnSync('unshare', ['--mount', '--propagation', 'private', 'bash', '-euc', script], {
    encoding: 'utf8', timeout: 60000,
    env: { ...process.env, ...env, T: tmp, NODE: process.execPath, LAUNCHER: launcher, PKG: root, DOCTOR: `${process.execPath} ${launcher} doctor` },
  });
}

function report(r: { stdout: string; stderr: string; status: number | null }): Report {
  let parsed: Report;
  try {
    parsed = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`no JSON from the doctor (status ${r.status}): ${r.stderr || r.stdout}`);
  }
  expect(parsed.checks.map((c) => c.check)).toEqual(CHECKS);
  return parsed;
}
const byName = (r: Report, check: string): Finding => r.checks.find((c) => c.check === check)!;

/** A fresh /dev/net/tun node of this mode, bound over the real one (only in the namespace). */
const TUN = (mode: string) => `mount -t tmpfs tmpfs "$T"; mknod -m ${mode} "$T/tun" c 10 200; mount --bind "$T/tun" /dev/net/tun;`;
const AS_NOBODY = 'HOME=/nonexistent setpriv --reuid=65534 --regid=65534 --clear-groups';
const sysctl = (name: string) => (fs.existsSync(`/proc/sys/${name}`) ? fs.readFileSync(`/proc/sys/${name}`, 'utf8').trim() : null);
/** Whether this kernel lets plain users make user namespaces (Debian's switch, and the limit). */
const plainUserns = sysctl('kernel/unprivileged_userns_clone') !== '0' && sysctl('user/max_user_namespaces') !== '0';

test('on this machine: one line per check, then a stack is made and closed, exit 0', () => {
  const text = spawnSync(process.execPath, [launcher, 'doctor'], { encoding: 'utf8', timeout: 60000 });
  expect(text.stderr).toBe('');
  const lines = text.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^iothts doctor: uid \d+, .*Node v\d+/);
  expect(lines.slice(1, -1).map((l) => /^(?:ok {2}|warn|FAIL|skip) (.+?): /.exec(l)?.[1])).toEqual(CHECKS);
  expect(lines[lines.length - 3]).toMatch(/^ok {3}stack: new Stack\('vdestack', 'null:\/\/'\) made \(interfaces lo, vde0\) and closed in \d+ ms$/);
  expect(lines[lines.length - 2]).toMatch(/^ok {3}vdebridge: new Stack\('vdebridge', 'null:\/\/'\) made \(interfaces lo, vde0\) and closed in \d+ ms$/);
  expect(lines[lines.length - 1]).toBe('iothts doctor: a vdestack stack can be made here');
  expect(text.status).toBe(0);

  const json = spawnSync(process.execPath, [launcher, 'doctor', '--json'], { encoding: 'utf8', timeout: 60000 });
  expect(json.status).toBe(0);
  const r = report(json);
  expect(r.ok).toBe(true);
  expect(r.uid).toBe(process.getuid!());
  expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
  for (const check of ['libioth', 'addon', 'plugins', 'user namespaces', 'chroot', 'stack', 'vdebridge']) expect(byName(r, check).status).toBe('ok');
  expect(byName(r, 'node').summary).toContain(process.version);
  expect(byName(r, 'plugins').summary).toMatch(/vdestack.*ioth_vdestack(-r)?\.so loads/);
});

asRoot('a plain user with /dev/net/tun 0600: the problem, the fix, exit 1', () => {
  const r = inMountNamespace(`${TUN('0600')} ${AS_NOBODY} $DOCTOR`);
  expect(r.status).toBe(1);
  const tun = r.stdout.split('\n').find((l) => l.startsWith('FAIL /dev/net/tun: '));
  expect(tun).toMatch(/mode 0600 root:root, this user \(uid 65534\) cannot open it/);
  expect(tun).toContain('fix: the host\'s administrator decides: `chmod 0666 /dev/net/tun`');
  expect(tun).toContain('/etc/udev/rules.d/');
  expect(r.stdout).toMatch(/^FAIL stack: new Stack\('vdestack', 'null:\/\/'\): vdestack created no interface vde0 .*\/dev\/net\/tun/m);
  // vdebridge needs the same /dev/net/tun: a warning naming it, not one more failure.
  expect(r.stdout).toMatch(/^warn vdebridge: new Stack\('vdebridge', 'null:\/\/'\): .*could not open \/dev\/net\/tun.*fix: the FAIL lines above/m);
  expect(r.stdout).toMatch(plainUserns ? /^iothts doctor: 2 checks failed: \/dev\/net\/tun, stack$/m
    : /^iothts doctor: 3 checks failed: user namespaces, \/dev\/net\/tun, stack$/m);
});

asRoot('a plain user with /dev/net/tun 0666 makes a stack where user namespaces are open to plain users', () => {
  const r = inMountNamespace(`${TUN('0666')} ${AS_NOBODY} $DOCTOR --json`);
  const doc = report(r);
  expect(doc.uid).toBe(65534);
  expect(byName(doc, '/dev/net/tun')).toMatchObject({ status: 'ok', summary: 'mode 0666 root:root, this user (uid 65534) can open it' });
  if (plainUserns) {
    expect(byName(doc, 'stack').status).toBe('ok');
    expect(r.status).toBe(0);
  } else { // this host keeps them for root: the doctor must say which setting
    expect(byName(doc, 'user namespaces')).toMatchObject({ status: 'fail', fix: expect.stringMatching(/sysctl -w (kernel\.unprivileged_userns_clone=1|user\.max_user_namespaces)/) });
    expect(r.status).toBe(1);
  }
});

asRoot('a libioth that does not load: libioth and the addon fail, every other check still runs', () => {
  const lib = fs.realpathSync(spawnSync('sh', ['-c', "ldconfig -p | awk '$1 == \"libioth.so.0\" { print $NF; exit }'"], { encoding: 'utf8' }).stdout.trim());
  const r = inMountNamespace(`mount --bind /dev/null "${lib}"; $DOCTOR --json`);
  expect(r.status).toBe(1);
  const doc = report(r);
  expect(byName(doc, 'libioth')).toMatchObject({ status: 'fail', summary: expect.stringContaining('libioth.so.0 cannot be loaded: ') });
  expect(byName(doc, 'libioth').fix).toMatch(/setup-system/);
  expect(byName(doc, 'addon')).toMatchObject({ status: 'fail', summary: expect.stringContaining('libioth') });
  for (const check of ['libvdeplug', 'vdeplug modules', 'user namespaces', 'chroot', 'node']) expect(byName(doc, check).status).toBe('ok');
  expect(byName(doc, 'stack')).toMatchObject({ status: 'fail', fix: expect.stringContaining('libioth, addon') });
});

// A root of this machine's own directories, bound into a tmpfs: $R is the root directory.
const TREE = `
  mount -t tmpfs tmpfs "$T"; R="$T/root"; mkdir "$R"
  if [ "$ENTER" = pivot_root ]; then mount --bind "$R" "$R"; fi   # pivot_root needs a mount point
  # /tmp first: the package or the Node binary may live below it (a clone in /tmp), bound in on top.
  mkdir "$R/tmp"; mount -t tmpfs tmpfs "$R/tmp"
  for d in /usr /etc /dev /proc "$PKG" "$(dirname "$NODE")"; do [ -e "$R$d" ] || { mkdir -p "$R$d"; mount --rbind "$d" "$R$d"; }; done
  for d in bin sbin lib lib64 lib32 libx32; do
    if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$R/$d"; elif [ -d "/$d" ]; then mkdir "$R/$d"; mount --rbind "/$d" "$R/$d"; fi
  done
`;

asRoot('in a chroot into a plain directory: the chroot, the EPERM and the pivot_root fix, exit 1', () => {
  const r = inMountNamespace(`${TREE} chroot "$R" $DOCTOR --json`, { ENTER: 'chroot' });
  expect(r.status).toBe(1);
  const doc = report(r);
  const chroot = byName(doc, 'chroot');
  expect(chroot).toMatchObject({ status: 'fail', summary: expect.stringMatching(/^this process is in a chroot \(no file system is mounted at \/.*the kernel refuses user namespaces to chrooted processes \(EPERM, as seen\)$/) });
  expect(chroot.fix).toMatch(/private mount namespace and pivot_root/);
  expect(byName(doc, 'user namespaces')).toMatchObject({ status: 'fail', summary: expect.stringContaining('EPERM') });
  expect(byName(doc, 'stack')).toMatchObject({ status: 'fail', summary: expect.stringContaining('EPERM') });
});

asRoot('in a chroot into a bind of / (a mount point): still named, from EPERM refused to root', () => {
  const r = inMountNamespace(`mount -t tmpfs tmpfs "$T"; mkdir "$T/all"; mount --rbind / "$T/all"; chroot "$T/all" $DOCTOR --json`);
  expect(r.status).toBe(1);
  const doc = report(r);
  expect(byName(doc, 'chroot')).toMatchObject({ status: 'fail', summary: expect.stringMatching(/^probably a chroot: user namespaces are refused \(EPERM\) to root/) });
  expect(byName(doc, 'stack').status).toBe('fail');
});

asRoot('the same root entered through a mount namespace and pivot_root: no chroot, a stack, exit 0', () => {
  const r = inMountNamespace(`${TREE} cd "$R"; mkdir .old; pivot_root . .old; umount -l /.old; exec chroot . $DOCTOR --json`, { ENTER: 'pivot_root' });
  const doc = report(r);
  expect(byName(doc, 'chroot')).toMatchObject({ status: 'ok', summary: expect.stringMatching(/^not in a chroot: user namespaces can be created/) });
  expect(byName(doc, 'stack').status).toBe('ok');
  expect(r.status).toBe(0);
});

test.each([
  ['an unknown option', ['--bogus'], /^iothts doctor: Unknown option '--bogus'/],
  ['an argument', ['app.js'], /^iothts doctor: Unexpected argument 'app.js'/],
])('doctor with %s: one line, exit 2', (_name, args, message) => {
  const r = spawnSync(process.execPath, [launcher, 'doctor', ...args], { encoding: 'utf8' });
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
});

test('doctor --help', () => {
  const r = spawnSync(process.execPath, [launcher, 'doctor', '--help'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^Usage: iothts doctor \[--json\]/);
});

asRoot('setup-system as a plain user: what to type, exit 1, nothing run', () => {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, launcher, 'setup-system'], { encoding: 'utf8', timeout: 30000 });
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe(`iothts setup-system: it installs Debian packages and needs root: run \`sudo npx iothts setup-system\` (or sudo bash ${path.join(root, 'scripts', 'setup-system.sh')})\n`);
});

asRoot('setup-system as root runs the package\'s scripts/setup-system.sh', () => {
  const r = spawnSync(process.execPath, [launcher, 'setup-system'], { encoding: 'utf8', timeout: 120000 });
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/^setup-system: ready \(Debian (bookworm|trixie), libioth \S+\)$/m);
  expect(r.status).toBe(0);
}, 120000);
