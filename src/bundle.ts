// The entry of dist/iothts.js, the package's code in one file (scripts/bundle.js), which the
// package's three entry points share through src/code-cache.ts: one file to read and one V8 code
// cache to compile it from, where 28 separate modules cost the hook most of its startup. Each part
// runs its modules' top level only when asked for, as the separate files did.
import type * as Api from './index';
import type * as Environment from './override/environment';
import type * as Launcher from './cli/launcher';
import type { Stack } from './stack/stack';

/** The library: what `require('iothts')` returns. */
export function api(): typeof Api {
  return require('./index') as typeof Api;
}

/** The hook's start (`--import iothts/register`): the stack IOTH_* describe, overriding the process. */
export function startFromEnvironment(env: NodeJS.ProcessEnv): Stack {
  return (require('./override/environment') as typeof Environment).stackFromEnvironment(env);
}

/** The `iothts` command. */
export function cli(args: string[]): void {
  (require('./cli/launcher') as typeof Launcher).main(args);
}
