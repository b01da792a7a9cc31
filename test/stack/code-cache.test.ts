// The package's code cache (src/code-cache.ts), as a user's processes meet it: the built package
// (dist/, as npm packs it) started by the library's entry and by the hook, each run with a cache
// folder of its own (XDG_CACHE_HOME). What happened is read from NODE_DEBUG=iothts's one line, which
// says "used" only when V8 took the cache (vm.Script's cachedDataRejected was false).
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const bundle = path.join(root, 'dist', 'iothts.js');

interface Run { code: number | string | null; stdout: string; stderr: string }

function node(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: root, env: { ...process.env, NODE_DEBUG: 'iothts', ...env }, timeout: 30000 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? err.signal ?? -1) : 0, stdout, stderr }));
  });
}

const library = (env: NodeJS.ProcessEnv) => node(['-e', "process.stdout.write(typeof require('iothts').Stack)"], env);
const hook = (env: NodeJS.ProcessEnv) => new Promise<Run>((resolve) => {
  execFile('unshare', ['--net', '--', process.execPath, '--import', 'iothts/register', '-e',
    "process.stdout.write(String(require('iothts').overridingStack() !== null))"],
  { cwd: root, env: { ...process.env, NODE_DEBUG: 'iothts', IOTH_VNL: 'null://', IOTH_CONFIG: 'eth', ...env }, timeout: 30000 },
  (err, stdout, stderr) => resolve({ code: err ? (err.code ?? err.signal ?? -1) : 0, stdout, stderr }));
});

/** What the run's code cache line says: used, none yet, rejected, stale or damaged, not kept, ... */
function said(r: Run): string {
  return [...r.stderr.matchAll(/^iothts: code cache \S+: (.*)$/gm)].map((m) => m[1]).join('; ');
}

let home: string;
const env = () => ({ XDG_CACHE_HOME: home });
const folder = () => path.join(home, 'iothts');
const files = () => (fs.existsSync(folder()) ? fs.readdirSync(folder()) : []);
const cacheFile = () => path.join(folder(), files().find((f) => f.endsWith('.v8'))!);

beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-cache-'));
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

test('the first start writes the cache (this user\'s alone), the next starts compile from it, the hook\'s and the library\'s alike', async () => {
  const first = await library(env());
  expect(first).toMatchObject({ code: 0, stdout: 'function' });
  expect(said(first)).toBe('none yet, writing it');
  expect(files()).toEqual([expect.stringMatching(new RegExp(`^${process.versions.v8.replace(/\./g, '\\.')}-\\d+-\\d+\\.v8$`))]);
  expect(fs.statSync(folder()).mode & 0o777).toBe(0o700);
  expect(fs.statSync(cacheFile()).mode & 0o777).toBe(0o600);
  const again = await library(env());
  expect(again).toMatchObject({ code: 0, stdout: 'function' });
  expect(said(again)).toBe('used');
  // The hook shares the file (one bundle), and the library it returns is the hook's own copy.
  const hooked = await hook(env());
  expect(hooked).toMatchObject({ code: 0, stdout: 'true' });
  expect(said(hooked)).toBe('used');
  expect(files()).toHaveLength(1);
});

describe('a cache that cannot be trusted is not used, and the package still starts', () => {
  test.each([
    ['a byte of the code flipped', (data: Buffer) => {
      const at = data.indexOf(10) + 1 + 100;
      data[at] ^= 0x20;
      return data;
    }],
    ['cut short', (data: Buffer) => data.subarray(0, data.length - 1000)],
    ['not a cache at all', () => Buffer.from('garbage\n')],
    ['made for another build of the bundle (its size and time in the header)', (data: Buffer) => {
      const end = data.indexOf(10);
      const header = JSON.parse(data.subarray(0, end).toString()) as { mtimeMs: number };
      header.mtimeMs += 1;
      return Buffer.concat([Buffer.from(JSON.stringify(header)), data.subarray(end)]);
    }],
  ])('%s: compiled from source, the cache rewritten', async (_, damage) => {
    expect(await library(env())).toMatchObject({ code: 0 });
    fs.writeFileSync(cacheFile(), damage(fs.readFileSync(cacheFile())));
    const r = await library(env());
    expect(r).toMatchObject({ code: 0, stdout: 'function' });
    expect(said(r)).toMatch(/^(stale or damaged|unreadable .*); none yet, writing it$/);
    expect(said(await library(env()))).toBe('used');
  });

  test('V8 refuses it under other V8 flags: compiled from source, rewritten for them', async () => {
    expect(await library(env())).toMatchObject({ code: 0 });
    const r = await node(['--expose-gc', '-e', "process.stdout.write(typeof require('iothts').Stack)"], env());
    expect(r).toMatchObject({ code: 0, stdout: 'function' });
    expect(said(r)).toBe('rejected by V8 (other flags?), writing it');
  });

  test('a folder others may write to is neither read nor written', async () => {
    expect(await library(env())).toMatchObject({ code: 0 });
    fs.chmodSync(folder(), 0o777);
    const before = fs.readFileSync(cacheFile());
    const r = await library(env());
    expect(r).toMatchObject({ code: 0, stdout: 'function' });
    expect(said(r)).toBe('none yet, writing it; not kept, the folder is not this user\'s alone');
    expect(fs.readFileSync(cacheFile()).equals(before)).toBe(true);
  });

  // chown needs root, as CI runs.
  (process.geteuid!() === 0 ? test : test.skip)('a file of another user is not read', async () => {
    expect(await library(env())).toMatchObject({ code: 0 });
    fs.chownSync(cacheFile(), 65534, 65534);
    const r = await library(env());
    expect(r).toMatchObject({ code: 0, stdout: 'function' });
    expect(said(r)).toBe('none yet, writing it');
  });
});

test.each([
  ['NODE_DISABLE_COMPILE_CACHE=1', () => ({ XDG_CACHE_HOME: home, NODE_DISABLE_COMPILE_CACHE: '1' }), ''],
  ['no home and no XDG_CACHE_HOME', () => ({ XDG_CACHE_HOME: '', HOME: '' }), ''],
  ['a cache folder that cannot be made', () => ({ XDG_CACHE_HOME: '/proc/iothts-test' }), 'none yet, writing it; not written'],
])('%s: no cache, the package starts as without one', async (_, variables, line) => {
  for (const run of [library, hook]) {
    const r = await run(variables());
    expect(r).toMatchObject({ code: 0 });
    if (line) expect(said(r).startsWith(line)).toBe(true);
    else expect(said(r)).toBe('');
  }
  expect(files()).toEqual([]);
});

test('without XDG_CACHE_HOME, or with a relative one (which the XDG rule ignores), the cache is in ~/.cache', async () => {
  for (const xdg of ['', 'relative/cache']) {
    const r = await library({ XDG_CACHE_HOME: xdg, HOME: home });
    expect(r).toMatchObject({ code: 0 });
    expect(said(r)).toMatch(/^(none yet, writing it|used)$/);
    expect(r.stderr).toContain(`code cache ${path.join(home, '.cache', 'iothts')}/`);
  }
  expect(fs.readdirSync(path.join(home, '.cache', 'iothts'))).toHaveLength(1);
  expect(fs.existsSync(path.join(root, 'relative'))).toBe(false);
});

test('eight processes starting at once with no cache: all start, one whole file is left, no temporary ones', async () => {
  const runs = await Promise.all(Array.from({ length: 8 }, () => library(env())));
  for (const r of runs) expect(r).toMatchObject({ code: 0, stdout: 'function' });
  expect(files()).toHaveLength(1);
  expect(said(await library(env()))).toBe('used');
});

test('at most 8 cache files are kept: the oldest others go when one is written', async () => {
  fs.mkdirSync(folder(), { mode: 0o700 });
  for (let i = 0; i < 10; i++) {
    const f = path.join(folder(), `0.0.0-1-${i}.v8`);
    fs.writeFileSync(f, 'old');
    fs.utimesSync(f, 1000 + i, 1000 + i);
  }
  expect(said(await library(env()))).toBe('none yet, writing it');
  const left = files();
  expect(left).toHaveLength(8);
  expect(left).toContain(path.basename(cacheFile()));
  expect(left.filter((f) => f.startsWith('0.0.0-')).sort()).toEqual([3, 4, 5, 6, 7, 8, 9].map((i) => `0.0.0-1-${i}.v8`));
});

test('the package\'s entry lists the library\'s names for ESM named imports, as src/index.ts exports them', () => {
  const names = execFileSync(process.execPath, ['--input-type=module', '-e',
    // Node adds 'default' to every CommonJS module's namespace, and from 23 on 'module.exports'.
    "import * as m from 'iothts'; process.stdout.write(JSON.stringify(Object.keys(m).filter((k) => k !== 'default' && k !== 'module.exports').sort()))"],
  { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' } });
  expect(JSON.parse(names)).toEqual(Object.keys(require('../../src/index')).sort());
  expect(fs.existsSync(bundle)).toBe(true);
});
