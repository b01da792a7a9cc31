// node --import iothts/register app.js  (or --require): runs app.js with all its networking on a
// virtual stack described by IOTH_STACK, IOTH_VNL and IOTH_CONFIG. A bad setting stops the process
// with one line naming the variable.
import { EnvironmentError, stackFromEnvironment } from './src/environment';

try {
  stackFromEnvironment(process.env);
} catch (err) {
  // Ours (a variable, or the override's ERR_IOTH_* refusal) in one line; anything else in full.
  const e = err as NodeJS.ErrnoException;
  const reason = err instanceof EnvironmentError || e.code?.startsWith('ERR_IOTH') ? e.message : e.stack;
  process.stderr.write(`iothts/register: ${reason}\n`);
  process.exit(1);
}
