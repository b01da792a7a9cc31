#!/usr/bin/env node
// npm's install step for iothts. The package ships a prebuilt N-API addon (prebuilds/linux-x64/);
// when it loads here there is nothing to do. Otherwise (another architecture, an older glibc) the
// addon is built from the shipped sources with cmake-js. Neither can help while libioth itself is
// missing, so then it only says how to install it: the package stays installed, and the prebuilt
// addon works as soon as the system libraries are there (npx iothts doctor checks).
// npm_config_build_from_source=true (npm install --build-from-source) always builds, and fails
// the install when the build fails.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const fromSource = /^(true|1|iothts)$/.test(process.env.npm_config_build_from_source || '');
const say = (line) => process.stderr.write(`iothts: ${line}\n`);

if (!fromSource) {
  // In a child process: a binary that cannot load must not take npm down with it.
  const probe = spawnSync(process.execPath, ['-e', 'require(require("node-gyp-build").path(process.argv[1]))', root],
    { cwd: root, encoding: 'utf8' });
  if (probe.status === 0) process.exit(0);
  const missing = /(lib[\w.+-]*\.so[\w.]*): cannot open shared object file/.exec(probe.stderr);
  if (missing) {
    say(`the addon needs ${missing[1]}, which is not installed. On Debian 13: apt-get install libioth0 vdeplug ` +
      'libvdeplug-slirp; on Debian 12: sudo npx iothts setup-system --runtime. Then: npx iothts doctor');
    process.exit(0);
  }
}

const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const build = spawnSync(process.execPath, [cmakeJs, 'compile', '--out', 'build', '--log-level', 'error'],
  { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (build.status === 0) process.exit(0);
say('could not build the native addon from source (it needs cmake, g++, libioth-dev and nlinline-dev: ' +
  'sudo npx iothts setup-system), then run npm rebuild iothts');
process.exit(fromSource ? 1 : 0);
