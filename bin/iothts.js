#!/usr/bin/env node
// The iothts launcher (src/launcher.ts): iothts [options] [--] app.js [args]
require('../dist/src/cli/launcher').main(process.argv.slice(2));
