// The environment of `node --import iothts/register`: which stack to build, how to configure it.
import { applyConfig, splitStackConfig, type ConfigResult } from '../config';
import { join } from 'node:path';
import { override, overridingStack } from './override';
import { packageRoot } from '../internal/package-root';
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
  /** The resolver the configuration gave (servers, search list), for the borrowers' own. */
  dns?: { servers: string[]; search: string[] };
}

function threads(): typeof import('node:worker_threads') {
  return require('node:worker_threads') as typeof import('node:worker_threads');
}

// A worker thread reads it from its environment data (cloned from its creator's, whatever env the
// Worker was given), a child process from its environment.
function inherited(env: NodeJS.ProcessEnv): Shared | null {
  try {
    const data = isLoaded('worker_threads') ? threads().getEnvironmentData(SHARED_VARIABLE) : undefined;
    const value = JSON.parse(typeof data === 'string' ? data : env[SHARED_VARIABLE] ?? 'null') as Shared | null;
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
  const hook = join(packageRoot(), 'dist', 'register.js');
  // node:worker_threads only for a program that loads it: a worker thread's bootstrap has loaded it.
  const isMainThread = !isLoaded('worker_threads') || threads().isMainThread;
  if (isMainThread) whenLoaded('worker_threads', () => preloadInWorkers(hook));
  const parent = inherited(env);
  // A worker thread uses the stack its process uses, whatever env it was given: the same
  // addresses, the same sockets.
  if (!isMainThread && parent && (parent.pid === process.pid || parent.share.broker !== undefined)) {
    return adopt(env, parent, hook);
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
  // A child process (fork, spawn of node, a cluster worker) with its parent's settings uses the
  // parent's stack, through the broker of the process that owns it: one host for the whole family
  // (127.0.0.1 between them, the same addresses, cluster workers binding their own sockets on it).
  // A child given settings of its own (another IOTH_CONFIG or VNL) gets a stack of its own below.
  if (parent && parent.pid !== process.pid && parent.settings === settings && parent.share.broker !== undefined) {
    return adopt(env, parent, hook);
  }
  const vnls = vnlText.split(/\s+/).filter(Boolean);
  if (vnls.length === 0) throw new EnvironmentError('IOTH_VNL', vnlText, 'no VNL given (unset it for the default, slirp://)');
  let stack: Stack;
  let resolver: Shared['dns'];
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
    if (config.trim()) resolver = resolverOf(applyConfig(stack, config));
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
  return share(env, stack, settings, hook, resolver);
}

function resolverOf(result: ConfigResult): Shared['dns'] {
  return result.dns.length || result.domains.length ? { servers: result.dns, search: result.domains } : undefined;
}

// The stack of the thread or process that owns it, with the resolver its configuration set, as
// this thread's; passed on to the threads and processes this one makes.
function adopt(env: NodeJS.ProcessEnv, parent: Shared, hook: string): Stack {
  const stack = new Stack({ share: parent.share });
  try {
    // Through a broker: the owner is alive and serving (else fail here, in one line).
    if (parent.pid !== process.pid) stack.links();
    override(stack);
  } catch (err) {
    stack.close();
    throw err;
  }
  try {
    if (parent.dns?.servers.length) stack.dns.setServers(parent.dns.servers);
    if (parent.dns?.search.length) stack.dns.setSearch(parent.dns.search);
  } catch {
    // a bad record in the environment: the borrower resolves with no servers, as without dns=
  }
  publish(env, JSON.stringify(parent), hook);
  return stack;
}

function share(env: NodeJS.ProcessEnv, stack: Stack, settings: string, hook: string, dns: Shared['dns']): Stack {
  // processes: a broker thread that gives the stack's sockets to children (addon/c/broker.c).
  const shared: Shared = { pid: process.pid, share: stack.share({ processes: true }), settings };
  if (dns) shared.dns = dns;
  publish(env, JSON.stringify(shared), hook);
  return stack;
}

// For the threads (environment data) and the child processes (environment) made from now on.
// NODE_OPTIONS carries the hook into node children (fork, spawn of process.execPath, cluster,
// npm scripts) that get this environment, whether the hook came from there or from the command line.
function publish(env: NodeJS.ProcessEnv, value: string, hook: string): void {
  env[SHARED_VARIABLE] = value;
  whenLoaded('worker_threads', () => threads().setEnvironmentData(SHARED_VARIABLE, value));
  const options = env.NODE_OPTIONS ?? '';
  if (!options.includes(hook) && !/\biothts\/register\b/.test(options)) env.NODE_OPTIONS = `${options}${options ? ' ' : ''}--require ${JSON.stringify(hook)}`;
}
