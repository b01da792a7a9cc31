// What the hook leaves of Node as the app finds it, compared with native Node in the same run: the
// built-in modules it loads (none the app did not load beyond the few it needs itself), an app that
// prepares a module before its first require, DEP0111 under --pending-deprecation, and
// os.networkInterfaces(). Each hook run is in an EMPTY network namespace of its own.
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const fixtures = path.join(__dirname, '..', 'fixtures', 'hook');
const empty = path.join(fixtures, 'empty.js');
const HOOK_ENV = { IOTH_VNL: 'null://', IOTH_CONFIG: 'eth' };

interface Run { code: number | string | null; stdout: string; stderr: string }

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: root, env: { ...process.env, ...env }, timeout: 30000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? err.signal ?? -1) : 0, stdout, stderr });
    });
  });
}

/** node natively, with `--import` of an empty module (so both runs have Node's ESM loader for --import). */
const native = (flags: string[], args: string[]) => run(process.execPath, [...flags, '--import', empty, ...args]);
/** node under the hook, in an empty network namespace. */
const hooked = (flags: string[], args: string[], env: NodeJS.ProcessEnv = HOOK_ENV) =>
  run('unshare', ['--net', '--', process.execPath, ...flags, '--import', 'iothts/register', ...args], env);

async function builtins(runner: typeof hooked, modules: string[], env?: NodeJS.ProcessEnv): Promise<string[]> {
  const r = await runner([], [path.join(fixtures, 'builtins.js'), ...modules], env);
  expect(r).toMatchObject({ code: 0 });
  return JSON.parse(r.stdout) as string[];
}

// Where module.registerHooks exists (22.15+), the hook waits for the app's first use of
// node:worker_threads, node:dns and node:os; on Node 20 it cannot see an ESM import coming, and
// loads them at once.
const lazyModules = typeof (require('node:module') as { registerHooks?: unknown }).registerHooks === 'function';

// What the hook needs itself (docs/internals/hook.md): node:vm, to compile the package from its code
// cache (src/code-cache.ts), and node:module; on Node 20, node:dns and dns.promises, whose functions
// it replaces, node:os, and node:worker_threads for the worker-thread preload. Expected = what native
// Node loads for an app that requires exactly these, so the list follows each Node release's internals.
const NEEDED = ['vm', 'module', ...(lazyModules ? [] : ['dns', 'dns/promises', 'os', 'worker_threads'])];

describe.each([
  ['node -e 0', [], 'eth'],
  ['an app that requires only net', ['net'], 'eth'],
  // The resolver's settings are held until its first use, not loaded with them.
  ['node -e 0, IOTH_CONFIG with dns= and domain=', [], 'eth,dns=10.0.2.3,domain=example.org'],
  // Addresses are read without node:net (src/internal/ip-syntax.ts).
  ['node -e 0, the default IOTH_CONFIG of slirp, on null://', [], 'eth,ip=10.0.2.15/24,gw=10.0.2.2,dns=10.0.2.3'],
  ['node -e 0, IOTH_CONFIG with IPv6 addresses', [], 'eth,ip=fd00::5/64,gw=fd00::1,dns=fd00::3,nodad'],
])('built-in modules under the hook: %s', (_, modules: string[], config: string) => {
  test('none beyond what the app loads and what the hook needs itself', async () => {
    const env = { ...HOOK_ENV, IOTH_CONFIG: config };
    const [app, allowed, under] = await Promise.all([
      builtins(native, modules), builtins(native, [...modules, ...NEEDED]), builtins(hooked, modules, env),
    ]);
    const extra = under.filter((m) => !app.includes(m));
    // fs's own lazily loaded parts (node:fs itself is loaded by Node's bootstrap): the hook reads
    // the directories where the addon may be (Node 26 loads internal/fs/dir for readdirSync).
    expect(extra.filter((m) => !allowed.includes(m) && !m.startsWith('internal/fs/'))).toEqual([]);
    // What the issue saw loaded early, each a module an app may prepare before it loads it.
    for (const m of ['http', 'https', 'tls', 'crypto', 'dgram', '_http_common', ...(modules.includes('net') ? [] : ['net'])]) {
      expect(under).not.toContain(m);
    }
  });
});

test.each(['require', 'import', 'getBuiltinModule'])('a worker thread made after getting node:worker_threads by %s has the hook', async (way) => {
  const r = await hooked([], [path.join(fixtures, 'worker-ways.mjs'), way]);
  expect(r).toMatchObject({ code: 0, stdout: JSON.stringify(['lo', 'vde0']) });
  if (lazyModules) {
    const under = await builtins(hooked, []);
    expect(under).not.toContain('worker_threads');
  }
});

// The stack's node:dns and os.networkInterfaces() go in at the app's first use of the module,
// whichever way it gets it (natively here: the host's servers, the empty namespace's interfaces).
describe.each(['require', 'import', 'getBuiltinModule'])('node:dns and node:os first got by %s', (way) => {
  test.each([['dns', ['10.0.2.3']], ['dns/promises', ['10.0.2.3']], ['os', ['lo', 'vde0']]])('%s answers from the stack', async (name, expected) => {
    const app = [path.join(fixtures, 'first-use.mjs'), way, name];
    const [n, h] = await Promise.all([native([], app), hooked([], app, { ...HOOK_ENV, IOTH_CONFIG: 'eth,dns=10.0.2.3' })]);
    expect(n).toMatchObject({ code: 0 });
    expect(JSON.parse(n.stdout)).toEqual({ loadedBefore: false, answer: expect.not.arrayContaining(expected) });
    expect(h).toMatchObject({ code: 0 });
    // On Node 20 the hook has loaded node:dns (not the dns/promises module) and node:os itself.
    expect(JSON.parse(h.stdout)).toEqual({ loadedBefore: !lazyModules && name !== 'dns/promises', answer: expected });
  });
});

test('dns= and domain= of IOTH_CONFIG reach the resolver at its first use', async () => {
  const code = "const dns = require('node:dns'); console.log(JSON.stringify(dns.getServers()))";
  const r = await hooked([], ['-e', code], { ...HOOK_ENV, IOTH_CONFIG: 'eth,dns=10.0.2.3,dns=fd00::3' });
  expect(r).toMatchObject({ code: 0, stdout: `${JSON.stringify(['10.0.2.3', 'fd00::3'])}\n` });
});

test('a named import of node:dns taken before the hook (an earlier preload) follows the override', async () => {
  const env = { ...HOOK_ENV, IOTH_CONFIG: 'eth,dns=10.0.2.3' };
  const r = await run('unshare', ['--net', '--', process.execPath, '--import', path.join(fixtures, 'early-dns.mjs'),
    '--import', 'iothts/register', '-e', 'console.log(JSON.stringify(globalThis.earlyGetServers()))'], env);
  expect(r).toMatchObject({ code: 0, stdout: `${JSON.stringify(['10.0.2.3'])}\n` });
});

test('an app that swaps the http_parser binding before requiring _http_common runs as natively (no abort)', async () => {
  const app = [path.join(fixtures, 'http-parser-swap.js')];
  const [n, h] = await Promise.all([native(['--expose-internals'], app), hooked(['--expose-internals'], app)]);
  expect(n).toMatchObject({ code: 0, stdout: 'prepared parser used\n' });
  expect(h).toMatchObject({ code: n.code, stdout: n.stdout });
});

describe('DEP0111 (process.binding) under --pending-deprecation', () => {
  const app = path.join(fixtures, 'deprecation.js');
  test('the hook\'s own use does not warn: --throw-deprecation does not stop the app', async () => {
    const flags = ['--pending-deprecation', '--throw-deprecation'];
    const [n, h] = await Promise.all([native(flags, [app]), hooked(flags, [app])]);
    expect(n).toMatchObject({ code: 0, stdout: '[]' });
    expect(h).toMatchObject({ code: 0, stdout: '[]' });
    expect(h.stderr).not.toMatch(/DEP0111/);
  });

  test('the app\'s own process.binding() call still warns once, as natively', async () => {
    const flags = ['--pending-deprecation'];
    const [n, h] = await Promise.all([native(flags, [app, 'call']), hooked(flags, [app, 'call'])]);
    const warnings = JSON.parse(n.stdout) as unknown[];
    expect(warnings).toHaveLength(1);
    expect(h).toMatchObject({ code: 0 });
    expect(JSON.parse(h.stdout)).toEqual(warnings);
  });
});

describe('os.networkInterfaces()', () => {
  test('under the hook lists the stack\'s lo and vde0 with the configured addresses, in Node\'s shape', async () => {
    const app = [path.join(fixtures, 'interfaces.mjs')];
    const env = { IOTH_VNL: 'null://', IOTH_CONFIG: 'eth,ip=10.0.0.5/24,ip=fd00::5/64,nodad' };
    const [n, h] = await Promise.all([
      run('unshare', ['--net', '--', process.execPath, ...app]), hooked([], app, env)]);
    expect(h).toMatchObject({ code: 0 });
    expect(JSON.parse(n.stdout)).toEqual({ esm: {}, cjs: {} }); // natively: the empty namespace's
    const seen = JSON.parse(h.stdout) as { esm: NodeJS.Dict<os.NetworkInterfaceInfo[]>; cjs: unknown };
    expect(seen.cjs).toEqual(seen.esm); // an ESM named import and the module object alike
    const list = seen.esm;
    expect(Object.keys(list)).toEqual(['lo', 'vde0']);
    expect(list.vde0!.filter((e) => !e.address.startsWith('fe80:'))).toEqual([
      expect.objectContaining({ address: '10.0.0.5', netmask: '255.255.255.0', family: 'IPv4', internal: false, cidr: '10.0.0.5/24' }),
      expect.objectContaining({ address: 'fd00::5', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', internal: false, cidr: 'fd00::5/64', scopeid: 0 }),
    ]);
    expect(list.vde0![0].mac).toMatch(/^(?:[0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    // lo field by field, key order included, against this Node's own answer for lo (this test's
    // namespace has lo up with 127.0.0.1 and ::1).
    const reference = os.networkInterfaces().lo!;
    expect(reference.length).toBeGreaterThan(0);
    expect(JSON.stringify(list.lo)).toBe(JSON.stringify(reference));
  });

  test('an override undone before the app first gets node:dns and node:os leaves both Node\'s own', async () => {
    const app = path.join(fixtures, 'undo-before-use.js');
    const [n, h] = await Promise.all([
      run('unshare', ['--net', '--', process.execPath, '-e', "console.log(JSON.stringify(require('dns').getServers()))"]),
      run('unshare', ['--net', '--', process.execPath, app])]);
    expect(h).toMatchObject({ code: 0 });
    expect(JSON.parse(h.stdout)).toEqual({ dnsLoaded: false, servers: JSON.parse(n.stdout), interfaces: [], stackServers: ['10.9.0.53'] });
  });

  test('override()\'s undo puts Node\'s function back', async () => {
    const r = await run('unshare', ['--net', '--', process.execPath, path.join(fixtures, 'interfaces-restore.js')]);
    expect(r).toMatchObject({ code: 0 });
    expect(JSON.parse(r.stdout)).toEqual({ during: ['lo', 'vde0'], after: [], same: true });
  });
});
