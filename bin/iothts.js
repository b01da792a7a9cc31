#!/usr/bin/env node
// The iothts launcher (src/cli/launcher.ts): iothts [options] [--] app.js [args]
require('../dist/src/code-cache').loadBundle((bundle) => bundle.cli)(process.argv.slice(2));
