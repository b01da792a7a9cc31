// The `iothts` command: runs a Node program with `node --import iothts/register`, its networking
// on a virtual stack given by options (they become IOTH_STACK, IOTH_VNL and IOTH_CONFIG).
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../internal/package-root';

export const USAGE = `Usage: iothts [options] [--] app.js [app arguments...]
       iothts doctor [--json]         checks what a stack needs here, with the fixes
       iothts setup-system [args]     installs the Debian packages (as root: sudo npx iothts setup-system)

Runs app.js with all its networking (net, dgram, dns, http, https, tls, http2, fetch) on a
virtual TCP/IP stack of its own: node --import iothts/register app.js.

Options:
  -s, --stack PLUGIN    libioth plugin (IOTH_STACK; default vdestack)
  -n, --vnl VNL         a VDE network for one interface; repeat for more (IOTH_VNL;
                        default slirp://), e.g. vxvde://234.0.0.1, vde:///run/sw, hub:///tmp/hub
  -c, --config STRING   interface configuration (IOTH_CONFIG), e.g.
                        eth,ip=10.0.0.1/24,gw=10.0.0.254,dns=10.0.0.53,domain=example.test
                        keys: eth ip= gw= dns= domain= mac= mtu= iface= ifindex=
      --node-option OPT an option for node itself (repeatable), e.g. --node-option=--inspect
  -h, --help            this help

Without --vnl and --config the app gets slirp's NAT: 10.0.2.15/24, the host's loopback at
10.0.2.2, DNS at 10.0.2.3. Exit status: the app's.

doctor and setup-system are subcommands only as the first argument: a program named doctor
runs with iothts -- doctor (or ./doctor, or after any option).`;

export interface Launch {
  env: Record<string, string>;
  argv: string[];
}

/** The environment and node arguments for a command line, or an Error with a one-line message. */
export function parseLauncherArgs(args: string[]): Launch | 'help' {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      stack: { type: 'string', short: 's' },
      vnl: { type: 'string', short: 'n', multiple: true },
      config: { type: 'string', short: 'c' },
      'node-option': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length === 0) throw new Error('no program given (iothts --help)');
  const env: Record<string, string> = {};
  if (values.stack !== undefined) env.IOTH_STACK = values.stack;
  if (values.vnl !== undefined) {
    const blank = values.vnl.find((v) => !v.trim() || /\s/.test(v));
    if (blank !== undefined) throw new Error(`--vnl ${JSON.stringify(blank)}: a VNL has no blanks; repeat --vnl for more`);
    env.IOTH_VNL = values.vnl.join(' ');
  }
  if (values.config !== undefined) env.IOTH_CONFIG = values.config;
  const register = path.join(packageRoot(), 'dist', 'register.js');
  return { env, argv: [...(values['node-option'] ?? []), '--import', register, ...positionals] };
}

/** The subcommands, recognised only as the very first argument (see USAGE). */
const SUBCOMMANDS: Record<string, () => (args: string[]) => number> = {
  doctor: () => (require('./doctor') as typeof import('./doctor')).doctorMain,
  'setup-system': () => (require('./setup-system') as typeof import('./setup-system')).setupSystemMain,
};

export function main(args: string[]): void {
  const subcommand = Object.hasOwn(SUBCOMMANDS, args[0] ?? '') ? SUBCOMMANDS[args[0]] : undefined;
  if (subcommand) {
    process.exitCode = subcommand()(args.slice(1));
    return;
  }
  let launch: Launch | 'help';
  try {
    launch = parseLauncherArgs(args);
  } catch (err) {
    process.stderr.write(`iothts: ${(err as Error).message.split('\n')[0]}\n`);
    process.exit(2);
  }
  if (launch === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const child = spawn(process.execPath, launch.argv, { stdio: 'inherit', env: { ...process.env, ...launch.env } });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
