// What package.json must say for the build and the install to work where no Node headers can be
// downloaded (a fresh Debian 13 root has no libnode-dev, and the registry is all the network there is).
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

test('cmake-js builds against node-api-headers: binary.napi_versions names the N-API version the addon is built for', () => {
  // cmake-js takes a project for an N-API one only when this field exists; otherwise it fetches the
  // running Node's full headers (seen failing in a fresh Debian 13 root: "fetch failed").
  const napi = Number(/-DNAPI_VERSION=(\d+)/.exec(fs.readFileSync(path.join(root, 'CMakeLists.txt'), 'utf8'))?.[1]);
  expect(napi).toBeGreaterThan(0);
  expect(pkg.binary?.napi_versions).toEqual([napi]);
});

test('the Node lines the suite runs on are the ones engines admits', () => {
  const min = Number(/^>=\s*(\d+)/.exec(pkg.engines.node)?.[1]);
  expect(pkg.iothts.testedNode.length).toBeGreaterThan(0);
  for (const major of pkg.iothts.testedNode) expect(major).toBeGreaterThanOrEqual(min);
});
