// node --import iothts/register app.js  (or --require): runs app.js with all its networking on a
// virtual stack described by IOTH_STACK, IOTH_VNL and IOTH_CONFIG. A bad setting stops the process
// with one line naming the variable.
import { EnvironmentError, stackFromEnvironment } from './src/environment';

try {
  stackFromEnvironment(process.env);
} catch (err) {
  const reason = err instanceof EnvironmentError ? err.message : (err as Error).stack;
  process.stderr.write(`iothts/register: ${reason}\n`);
  process.exit(1);
}
