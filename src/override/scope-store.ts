// The async context's stack (stack.run(fn), runOnHost(fn)): an AsyncLocalStorage made at the first
// scope, so that a process that never scopes pays one module variable's check in the handle patch
// and loads nothing. Kept apart from scope.ts, which the override (override.ts) must not import.
import type { AsyncLocalStorage } from 'node:async_hooks';
import type { Stack } from '../stack/stack';

/** A scope's store: its stack, or null for the host's (runOnHost). */
export interface Scope {
  readonly stack: Stack | null;
}

let storage: AsyncLocalStorage<Scope> | undefined;

/** The scope's stack here and now: undefined outside every scope, null in runOnHost's. */
export function scopeStack(): Stack | null | undefined {
  if (storage === undefined) return undefined;
  return storage.getStore()?.stack;
}

/** Whether any scope was ever made (from then on, the patch keeps track of handles' stacks). */
export function scopesUsed(): boolean {
  return storage !== undefined;
}

/** Runs fn(...args) with `stack` (null: the host) as its async context's stack. */
export function runScoped<A extends unknown[], R>(stack: Stack | null, fn: (...args: A) => R, args: A): R {
  const { AsyncLocalStorage: Storage } = require('node:async_hooks') as typeof import('node:async_hooks');
  storage ??= new Storage<Scope>();
  return storage.run({ stack }, fn, ...args);
}

/**
 * `fn` bound to the async context it is made in (all of them: the app's own stores too), for a
 * completion that iothts delivers from another context (a look-up answered by the stack's resolver).
 * Without scopes, `fn` itself.
 */
export function inThisContext<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  if (storage === undefined) return fn;
  const { AsyncResource } = require('node:async_hooks') as typeof import('node:async_hooks');
  return AsyncResource.bind(fn);
}
