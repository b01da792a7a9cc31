// `iothts setup-system [args]`: runs the package's scripts/setup-system.sh (it installs the Debian
// packages iothts needs) as root. It does not call sudo itself: installing system packages is a
// decision the user makes by typing sudo, so without root it says what to type and fails.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { packageRoot } from '../internal/package-root';

export function setupSystemScript(): string {
  return path.join(packageRoot(), 'scripts', 'setup-system.sh');
}

/** Runs `iothts setup-system ARGS`; returns the exit status. */
export function setupSystemMain(args: string[]): number {
  const script = setupSystemScript();
  if (process.getuid?.() !== 0) {
    process.stderr.write('iothts setup-system: it installs Debian packages and needs root: run `sudo npx iothts setup-system` ' +
      `(or sudo bash ${script})\n`);
    return 1;
  }
  const r = spawnSync('bash', [script, ...args], { stdio: 'inherit' });
  if (r.error) {
    process.stderr.write(`iothts setup-system: cannot run ${script}: ${r.error.message}\n`);
    return 1;
  }
  return r.status ?? 1;
}
