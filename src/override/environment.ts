// The environment of `node --import iothts/register`: which stack to build, how to configure it.
import { applyConfig, parseConfig, splitStackConfig } from '../config';
import * as path from 'node:path';
import { override, overridingStack } from './override';
import { preloadInWorkers } from './workers';
import { isLoaded, whenLoaded } from './when-loaded';
import { Stack } from '../stack/stack';
import type { StackShare } from '../stack/types';

/** Set by the hook for the threads and child processes of the process it overrides. */
export const SHARED_VARIABLE = 'IOTHTS_SHARED_STACK';

interface Shared {
  pid: number;
  share: StackShare;
  settings: string;
}

function inherited(env: NodeJS.ProcessEnv): Shared | null {
  try {
    const value = JSON.parse(env[SHARED_VARIABLE] ?? 'null') as Shared | null;
    return value && Number.isInteger(value.pid) && value.share ? value : null;
  } catch {
    return null;
  }
}

/** What the variables mean when they are not set: a NAT to the host, like QEMU's user network. */
export const DEFAULTS = {
  IOTH_STACK: 'vdestack',
  IOTH_VNL: 'slirp://',
  IOTH_CONFIG: 'eth,ip=10.0.2.15/24,gw=10.0.2.2,dns=10.0.2.3',
} as const;

export class EnvironmentError extends Error {
  constructor(readonly variable: string, readonly value: string, reason: string) {
    super(`${variable}=${JSON.stringify(value)}: ${reason}`);
  }
}

/**
 * Builds the stack the environment describes, brings lo up, applies IOTH_CONFIG, and overrides the
 * process with it. Every failure is an EnvironmentError naming the variable and its value.
 */
export function stackFromEnvironment(env: NodeJS.ProcessEnv): Stack {
  const current = overridingStack();
  if (current) return current; // preloaded twice (--require, and by the Worker below)
  // node:worker_threads only for a program that loads it: a worker thread's bootstrap has loaded it.
  const isMainThread = !isLoaded('worker_threads') || (require('node:worker_threads') as typeof import('node:worker_threads')).isMainThread;
  if (isMainThread) whenLoaded('worker_threads', () => preloadInWorkers(path.join(__dirname, '..', '..', 'register.js')));
  const parent = inherited(env);
  // A worker thread uses the stack of its process: the same addresses, the same sockets.
  if (!isMainThread && parent?.pid === process.pid) {
    const stack = new Stack({ share: parent.share });
    override(stack);
    return stack;
  }
  // IOTH_CONFIG may also name the stack and its network, as ioth_newstackc's one string does.
  let inConfig: ReturnType<typeof splitStackConfig> = { rest: env.IOTH_CONFIG ?? '' };
  try {
    if (env.IOTH_CONFIG !== undefined) inConfig = splitStackConfig(env.IOTH_CONFIG);
  } catch (err) {
    throw new EnvironmentError('IOTH_CONFIG', env.IOTH_CONFIG!, (err as Error).message);
  }
  for (const [key, variable] of [['plugin', 'IOTH_STACK'], ['vnl', 'IOTH_VNL']] as const) {
    if (inConfig[key] !== undefined && env[variable] !== undefined) {
      throw new EnvironmentError('IOTH_CONFIG', env.IOTH_CONFIG!, `its ${key === 'plugin' ? 'stack' : 'vnl'}= contradicts ${variable}: set one of them`);
    }
  }
  const plugin = inConfig.plugin ?? env.IOTH_STACK ?? DEFAULTS.IOTH_STACK;
  const vnlText = inConfig.vnl ?? env.IOTH_VNL ?? DEFAULTS.IOTH_VNL;
  const ownVnl = env.IOTH_VNL !== undefined || inConfig.vnl !== undefined;
  // With a VNL of their own and no configuration, the links just come up (configure them yourself).
  const config = env.IOTH_CONFIG !== undefined ? inConfig.rest : ownVnl ? 'eth' : DEFAULTS.IOTH_CONFIG;
  const settings = JSON.stringify([plugin, vnlText, config]);
  // A child process (fork, a cluster worker) of an overridden process, with its parent's settings:
  // a fixed identity (static addresses, mac=, fqdn=) on the same network would clash with the
  // parent's, so the child gets a stack of its own with only lo; servers of cluster workers still
  // work (the primary accepts on its stack and hands the connections over). Give a child its own
  // IOTH_CONFIG to put it on the network; with DHCP alone it gets its own lease anyway.
  if (parent && parent.pid !== process.pid && parent.settings === settings && fixedIdentity(config)) {
    const stack = new Stack(plugin);
    stack.linkSetUpDown('lo', true);
    override(stack);
    return share(env, stack, settings);
  }
  const vnls = vnlText.split(/\s+/).filter(Boolean);
  if (vnls.length === 0) throw new EnvironmentError('IOTH_VNL', vnlText, 'no VNL given (unset it for the default, slirp://)');
  let stack: Stack;
  try {
    stack = new Stack(plugin, vnls);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_IOTH_ADDON') throw err; // the machine's fault, not a variable's
    // ENOTSUP: no such plugin; an argument error naming "plugin": a bad plugin name. Else the VNL.
    const blame = e.code === 'ENOTSUP' || /\bargument '?"?plugin/.test(e.message) ? 'IOTH_STACK' : 'IOTH_VNL';
    throw new EnvironmentError(blame, blame === 'IOTH_STACK' ? plugin : vnlText, e.message);
  }
  try {
    stack.linkSetUpDown('lo', true);
    if (config.trim()) applyConfig(stack, config);
  } catch (err) {
    stack.close();
    throw new EnvironmentError('IOTH_CONFIG', config, (err as Error).message);
  }
  try {
    override(stack); // its refusal is about the process, not about a variable
  } catch (err) {
    stack.close();
    throw err;
  }
  return share(env, stack, settings);
}

function fixedIdentity(config: string): boolean {
  const plan = parseConfig(config, false);
  return plan.add.ip.length > 0 || plan.mac !== undefined || plan.fqdn !== undefined;
}

function share(env: NodeJS.ProcessEnv, stack: Stack, settings: string): Stack {
  env[SHARED_VARIABLE] = JSON.stringify({ pid: process.pid, share: stack.share(), settings } satisfies Shared);
  return stack;
}
