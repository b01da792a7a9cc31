// stack.run(fn, ...args) and runOnHost(fn, ...args): the TCP/UDP sockets and node:dns look-ups that
// start in fn's async context (its callbacks, promises, timers, the events of what it opened) use
// that stack, or the host's, while the rest of the process keeps its default (the override's stack,
// else the host). The same handle patch as the override's (override.ts), which picks the scope's
// stack when there is one (scope-store.ts); the pools split by stack (scope-pools.ts). The first
// scope installs all of it, for the process's life.
import { codedError, invalidArgType, stackClosed } from '../internal/errors';
import type { Stack } from '../stack/stack';
import { keepPatchForScopes, overridingStack } from './override';
import { keyHttpAgents, splitUndiciPool } from './scope-pools';
import { runScoped, scopeStack, scopesUsed } from './scope-store';
import { whenLoaded } from './when-loaded';

function firstScope(): void {
  keepPatchForScopes();
  keyHttpAgents();
  splitUndiciPool();
  whenLoaded('worker_threads', refuseWorkersInScopes);
}

/** Runs `fn(...args)` with `stack` (null: the host) for its async context; returns what fn returns. */
export function runIn<A extends unknown[], R>(stack: Stack | null, fn: (...args: A) => R, args: A): R {
  if (typeof fn !== 'function') throw invalidArgType('fn', 'of type function', fn);
  if (stack?.closed) throw stackClosed('run in the scope of a stack');
  if (!scopesUsed()) firstScope();
  return runScoped(stack, fn, args);
}

/**
 * Runs `fn(...args)` on the host's network: the TCP/UDP sockets and node:dns look-ups that start in
 * its async context are Node's own, even in a process the override or a scope puts on a stack.
 * Returns what fn returns (its promise, for an async fn).
 */
export function runOnHost<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
  return runIn(null, fn, args);
}

/**
 * A Worker started in a scope would not be on the scope's stack (a thread starts with the process's
 * default): refused, saying what works instead.
 */
function refuseWorkersInScopes(): void {
  const threads = require('node:worker_threads') as typeof import('node:worker_threads');
  const Original = threads.Worker;
  class Worker extends Original {
    constructor(...args: ConstructorParameters<typeof Original>) {
      const scoped = scopeStack();
      if (scoped !== undefined && scoped !== overridingStack()) {
        throw codedError('ERR_IOTH_SCOPE_WORKER', `a Worker cannot start inside ${scoped ? 'stack.run()' : 'runOnHost()'}: ` +
          'it would start on the process\'s default network; start it outside the scope and give it the stack ' +
          '(workerData: stack.share(); in the worker: new Stack({ share }).run(...))');
      }
      super(...args);
    }
  }
  threads.Worker = Worker;
  (require('node:module') as typeof import('node:module')).syncBuiltinESMExports();
}
