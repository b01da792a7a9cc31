// node --import iothts/register app.js  (or --require): runs app.js with all its networking on a
// virtual stack described by IOTH_STACK, IOTH_VNL and IOTH_CONFIG. Any failure stops the process
// with one line (NODE_DEBUG=iothts adds the stack trace).
import type * as CodeCache from './src/code-cache';

try {
  // Required here, not imported at the top: loading the addon can fail too, and that failure
  // must also be the one line below.
  const { loadBundle } = require('./src/code-cache') as typeof CodeCache;
  loadBundle((bundle) => bundle.startFromEnvironment(process.env));
} catch (err) {
  const e = err as Error;
  const line = String(e?.message ?? err).split('\n')[0];
  const debug = /\biothts\b/.test(process.env.NODE_DEBUG ?? '') ? `\n${e?.stack}` : '';
  process.stderr.write(`iothts/register: ${line}${debug}\n`);
  process.exit(1);
}
