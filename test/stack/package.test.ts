// The published entry points as consumers see them: require('iothts'), import from 'iothts'
// (the package resolves itself by name from inside its own folder), and its TypeScript types.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 20000, stdio: ['ignore', 'pipe', 'pipe'] });

const script = `
  const s = new Stack('vdestack', 'null://');
  s.linkSetUpDown('vde0', true);
  s.ipAddrAdd('10.0.0.1', 24, 'vde0');
  console.log(JSON.stringify({ cidr: s.interfaces().vde0[0].cidr, plugins: installedPlugins() }));
  s.close();`;

test('CommonJS: require("iothts")', () => {
  const out = JSON.parse(node(['-e', `const { Stack, installedPlugins } = require('iothts');${script}`]));
  expect(out.cidr).toBe('10.0.0.1/24');
  expect(out.plugins).toEqual(expect.arrayContaining(['kernel', 'vdestack']));
});

test('ES modules: import { Stack } from "iothts"', () => {
  const out = JSON.parse(node(['--input-type=module', '-e', `import { Stack, installedPlugins } from 'iothts';${script}`]));
  expect(out.cidr).toBe('10.0.0.1/24');
});

test('TypeScript consumers get the types (module node16)', () => {
  const dir = fs.mkdtempSync(path.join(root, '.types-check-'));
  try {
    fs.writeFileSync(path.join(dir, 'consumer.mts'), `
      import { Stack, type LinkInfo, type StackOptions, type ConfigResult, type Dhcp4Lease } from 'iothts';
      const options: StackOptions = { plugin: 'vdestack', vnl: ['null://'] };
      const s: Stack = new Stack(options);
      const links: LinkInfo[] = s.links();
      const mtu: number = s.linkGetMtu(links[0].index);
      // @ts-expect-error prefixLen is a number
      s.ipAddrAdd('10.0.0.1', '24', 'vde0');
      const configured: ConfigResult = s.config('eth,ip=10.0.0.1/24');
      const lease: Dhcp4Lease | undefined = configured.dhcp4;
      // @ts-expect-error config takes one string
      s.config({ ip: '10.0.0.1' });
      s.close();
      export { mtu, lease };
    `);
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'node16',
      '--moduleResolution', 'node16', '--target', 'es2022', '--lib', 'es2022,esnext.disposable', '--types', 'node',
      path.join(dir, 'consumer.mts')], { cwd: root, encoding: 'utf8', timeout: 60000 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60000);

test('the package exports only its entry points', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  expect(Object.keys(pkg.exports)).toEqual(['.', './register', './package.json']);
  expect(() => node(['-e', "require('iothts/dist/src/internal/native')"])).toThrow(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
});
