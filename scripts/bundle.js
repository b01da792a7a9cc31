#!/usr/bin/env node
// The build's last step (npm run build:ts, after tsc): the package's code in one file,
// dist/iothts.js, from tsc's output (src/bundle.ts is its entry; the npm dependencies stay outside
// it), and dist/main.js, the package's entry, which loads it through its code cache
// (src/code-cache.ts). The library's names are written out in main.js for ESM named imports:
// Node reads them from the source (cjs-module-lexer), and the line that lists them never runs.
'use strict';
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const dist = path.resolve(__dirname, '..', 'dist');
esbuild.buildSync({
  entryPoints: [path.join(dist, 'src', 'bundle.js')],
  outfile: path.join(dist, 'iothts.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
const names = Object.keys(require(path.join(dist, 'iothts.js')).api());
if (!names.includes('Stack')) throw new Error(`bundle: the library exports ${names.join(', ') || 'nothing'}`);
fs.writeFileSync(path.join(dist, 'main.js'), `'use strict';
// The package's entry (made by scripts/bundle.js): the library, from dist/iothts.js.
module.exports = require('./src/code-cache').loadBundle((bundle) => bundle.api());
0 && (module.exports = { ${names.join(', ')} });
`);
