// A vdebridge install that is broken says what is broken: the plugin spawns its helper program
// from beside itself, and a missing or non-executable one came back as a bare ENOENT or EACCES,
// blamed on the VNL. Each case is a copy of the built addon and plugin in a folder of its own
// (IOTHTS_ADDON, the test-only switch), loaded in a child process, so the build is never touched.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const built = path.join(root, 'build', 'Release');
const helperName = 'iothts-vdebridge';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-vdebridge-install-'));
  fs.mkdirSync(path.join(dir, 'vdebridge', '.ioth'), { recursive: true });
  fs.copyFileSync(path.join(built, 'iothts.node'), path.join(dir, 'iothts.node'));
  fs.copyFileSync(path.join(built, 'vdebridge', '.ioth', 'ioth_vdebridge-r.so'), path.join(dir, 'vdebridge', '.ioth', 'ioth_vdebridge-r.so'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** new Stack('vdebridge', vnl) with the copy: what it threw, or 'made'. */
function attempt(vnl: string): { code?: string; message?: string } | 'made' {
  const out = execFileSync(process.execPath, ['-e', `
    try { new (require('iothts').Stack)('vdebridge', process.argv[1]).close(); console.log('"made"'); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`, vnl],
  { cwd: root, encoding: 'utf8', env: { ...process.env, IOTHTS_ADDON: path.join(dir, 'iothts.node') }, timeout: 30000 });
  return JSON.parse(out) as ReturnType<typeof attempt>;
}
const helper = () => path.join(dir, 'vdebridge', '.ioth', helperName);

test('a missing helper program: ENOENT naming it and what to do, whatever the VNL', () => {
  for (const vnl of ['null://', 'vde:///nonexistent/switch']) {
    expect(attempt(vnl)).toEqual({
      code: 'ENOENT', message: expect.stringContaining(`vdebridge's helper program ${helper()} is missing: reinstall iothts`),
    });
  }
});

test('a helper program that cannot be run: EACCES naming it', () => {
  fs.copyFileSync(path.join(built, 'vdebridge', '.ioth', helperName), helper());
  fs.chmodSync(helper(), 0o644);
  expect(attempt('null://')).toEqual({ code: 'EACCES', message: expect.stringContaining(`${helper()} cannot be run (EACCES)`) });
});

test('with its helper the copy works, and a missing VDE socket is blamed on the VNL, not on the install', () => {
  fs.copyFileSync(path.join(built, 'vdebridge', '.ioth', helperName), helper());
  fs.chmodSync(helper(), 0o755);
  expect(attempt('null://')).toBe('made');
  const missing = attempt('vde:///nonexistent/switch');
  expect(missing).toEqual({ code: 'ENOENT', message: expect.stringContaining('check the VNL') });
  expect((missing as { message: string }).message).not.toContain('helper program');
});
