// iothts as a user gets it: the packed tarball installed into a fresh app folder with express, by
// npm from the registry, with no compiler on PATH (scripts/consumer-app.sh, run by scripts/test.sh
// before the suite enters its private network namespace: npm needs the registry). Then, on the Node
// running this suite, an unmodified express app under the hook in an EMPTY network namespace
// (anything that touched the host's stack would fail there), the hook through --import, --require
// and NODE_OPTIONS, ES module and CommonJS consumers, a strict TypeScript consumer of the installed
// types, and the one-line error of a machine without libioth.
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const app = process.env.IOTHTS_CONSUMER_APP;
const fixtures = path.join(__dirname, '..', 'fixtures', 'consumer');
const installed = app ? path.join(app, 'node_modules', 'iothts') : '';

// Without the prepared app there is nothing to test: scripts/test.sh (and so CI) always makes it.
const describeInstalled = app || process.env.CI ? describe : describe.skip;
if (!app) console.warn('installed-package: IOTHTS_CONSUMER_APP is not set (scripts/test.sh sets it)');

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const options = { cwd: app, env: { ...process.env, ...env }, timeout: 30000 };
    execFile(args[0], args.slice(1), options, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** node in an empty network namespace: not even lo is up. */
const isolated = (...args: string[]) => ['unshare', '--net', '--', process.execPath, ...args];
// The hook's default network: slirp, 10.0.2.15/24.
const appEnv = { APP_ADDRESS: '10.0.2.15', NODE_OPTIONS: '' };

describeInstalled('the installed package', () => {
  beforeAll(() => {
    if (!app) throw new Error('IOTHTS_CONSUMER_APP is not set: run scripts/test.sh, or scripts/consumer-app.sh DIR first');
    fs.copyFileSync(path.join(fixtures, 'express-app.js'), path.join(app, 'express-app.js'));
    fs.copyFileSync(path.join(fixtures, 'esm-app.mjs'), path.join(app, 'esm-app.mjs'));
    fs.copyFileSync(path.join(fixtures, 'consumer.mts'), path.join(app, 'consumer.mts'));
  });

  test('holds the library, its types, the hook, the launcher, the setup script, the prebuilt addon, the docs the README links and the licence; no tests, bench or examples', () => {
    const files = execFileSync('find', ['.', '-type', 'f'], { cwd: installed, encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const f of ['./dist/main.js', './dist/iothts.js', './dist/src/code-cache.js', './dist/src/index.d.ts', './dist/register.js', './bin/iothts.js', './LICENSE',
      './README.md', './docs/api/stack.md', './scripts/setup-system.sh', './prebuilds/linux-x64/node.napi.glibc.node']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => /^\.\/(test|bench|examples|dist\/(bench|examples|test))\//.test(f) || f.endsWith('.map'))).toEqual([]);
    // The code is dist/iothts.js; of dist/src only the types and the loader of its code cache.
    expect(files.filter((f) => f.startsWith('./dist/src/') && f.endsWith('.js'))).toEqual(['./dist/src/code-cache.js']);
    expect(fs.readFileSync(path.join(installed, 'LICENSE'), 'utf8')).toMatch(/GNU LESSER GENERAL PUBLIC LICENSE\s+Version 2\.1/);
  });

  test('the addon that loads is the prebuilt one: nothing was built at install', () => {
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
    const loaded = execFileSync(process.execPath, ['-e', `
      const s = new (require('iothts').Stack)('vdestack', 'null://'); s.close();
      const addon = Object.keys(require.cache).find((f) => f.endsWith('.node'));
      console.log(require('node:path').relative(process.argv[1], addon));`, installed], { cwd: app, encoding: 'utf8' }).trim();
    expect(loaded).toBe(path.join('prebuilds', 'linux-x64', 'node.napi.glibc.node'));
  });

  test('npx iothts doctor, from the installed package, finds the prebuilt addon and makes a stack', async () => {
    const { code, stdout } = await run([process.execPath, path.join(app!, 'node_modules', '.bin', 'iothts'), 'doctor']);
    expect(stdout).toMatch(/^ok {3}addon: loaded .*\/node_modules\/iothts\/prebuilds\/linux-x64\/node\.napi\.glibc\.node$/m);
    expect(stdout).toMatch(/^ok {3}stack: new Stack\('vdestack', 'null:\/\/'\) made/m);
    expect(code).toBe(0);
  });

  test('without the hook, the express app in an empty network namespace reaches nothing (the control)', async () => {
    const { stdout } = await run(isolated('express-app.js'), appEnv);
    expect(JSON.parse(stdout)).toEqual({ loopback: 'ENETUNREACH', interface: 'ENETUNREACH', hostInterface: null });
  });

  const hooked: [string, string[], NodeJS.ProcessEnv][] = [
    ['node --import iothts/register', ['--import', 'iothts/register', 'express-app.js'], {}],
    ['node --require iothts/register', ['--require', 'iothts/register', 'express-app.js'], {}],
    ['NODE_OPTIONS=--import iothts/register', ['express-app.js'], { NODE_OPTIONS: '--import iothts/register' }],
    ['NODE_OPTIONS=--require iothts/register', ['express-app.js'], { NODE_OPTIONS: '--require iothts/register' }],
  ];
  test.each(hooked)('%s: the unmodified express app serves and fetches itself on the stack', async (_how, args, env) => {
    const { code, stdout, stderr } = await run(isolated(...args), { ...appEnv, ...env });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual({
      loopback: 'hello ::ffff:127.0.0.1',
      interface: 'hello ::ffff:10.0.2.15',
      hostInterface: '10.0.2.15', // os.networkInterfaces() lists the stack's interfaces (issue 16 item 3)
    });
  });

  test('the hook\'s start compiles the package from its code cache, and loads neither node-gyp-build nor node:os', async () => {
    const cache = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'iothts-installed-cache-'));
    try {
      const probe = "console.log(JSON.stringify({ nodeGypBuild: Object.keys(require.cache).some((f) => f.includes('node-gyp-build')), " +
        "os: process.moduleLoadList.includes('NativeModule os') }))";
      const env = { IOTH_VNL: 'null://', IOTH_CONFIG: 'eth', XDG_CACHE_HOME: cache, NODE_DEBUG: 'iothts' };
      const runs = [];
      for (let i = 0; i < 2; i++) runs.push(await run(isolated('--import', 'iothts/register', '-e', probe), env));
      for (const r of runs) expect(r).toMatchObject({ code: 0 });
      expect(runs.map((r) => /^iothts: code cache .*: (used|none yet, writing it)$/m.exec(r.stderr)?.[1])).toEqual(['none yet, writing it', 'used']);
      // Node 20 has no module.registerHooks: there the hook replaces os.networkInterfaces() at once.
      const lazy = typeof (require('node:module') as { registerHooks?: unknown }).registerHooks === 'function';
      expect(JSON.parse(runs[1].stdout)).toEqual({ nodeGypBuild: false, os: !lazy });
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });

  test('an ES module consumer imports the API by name and serves express on a stack', async () => {
    const { code, stdout, stderr } = await run(isolated('esm-app.mjs'));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual({ body: 'esm', plugins: expect.arrayContaining(['kernel', 'vdebridge', 'vdestack']) });
  });

  test.each(['vdestack', 'vdebridge'])('a CommonJS consumer requires the API and makes a %s stack', async (plugin) => {
    const { code, stdout } = await run(isolated('-e', `
      const { Stack } = require('iothts');
      const s = new Stack(process.argv[1], 'null://');
      s.config('eth,ip=10.0.0.1/24');
      console.log(s.interfaces().vde0[0].cidr); s.close();`, plugin));
    expect({ code, stdout }).toEqual({ code: 0, stdout: '10.0.0.1/24\n' });
  });

  test('a strict TypeScript consumer compiles against the installed types', () => {
    const root = path.resolve(__dirname, '..', '..');
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'node16',
      '--moduleResolution', 'node16', '--target', 'es2022', '--lib', 'es2022,esnext.disposable', '--types', 'node',
      '--typeRoots', path.join(root, 'node_modules', '@types'), 'consumer.mts'], { cwd: app, encoding: 'utf8', timeout: 60000 });
  }, 60000);

  test('on a machine without libioth, the hook says so in one line, naming the packages to install', async () => {
    const { code, stdout, stderr } = await run(['unshare', '--mount', '--propagation', 'private', '--',
      path.join(fixtures, 'without-libioth.sh'), process.execPath, '--import', 'iothts/register', '-e', 'console.log("app ran")']);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toMatch(/^iothts\/register: cannot load the iothts native addon: libioth\.so\.0 is missing: .*apt-get install libioth0.*sudo npx iothts setup-system --runtime\n$/);
  });
});
