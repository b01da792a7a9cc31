// The stacks of this thread that are open, for what happens at process exit: every owned stack
// gets its linger (all waited for together), then its DHCP leases are released, then the addon
// deletes the stacks. Weak: a stack the program dropped is deleted by the garbage collector.
import { releaseAll } from '../config';
import { onExitBeforeDelete, type NativeStack } from '../internal/native';
import { waitUntilSent } from './linger';
import type { ConfigTarget } from '../config/target';

/**
 * What the exit needs of an open stack (the Stack keeps it alive; the registry only refers to it).
 * Only stacks this thread owns are tracked: a borrowed one is its owner's to linger and delete.
 */
export interface OpenStack {
  /** The stack itself, for its DHCP leases. */
  readonly stack: ConfigTarget;
  /** Its native stack while open, null once closed. */
  native(): NativeStack | null;
  linger(): number;
}

const open = new Set<WeakRef<OpenStack>>();

export function track(entry: OpenStack): WeakRef<OpenStack> {
  const ref = new WeakRef(entry);
  open.add(ref);
  return ref;
}

export function untrack(ref: WeakRef<OpenStack>): void {
  open.delete(ref);
}

function lingerAtExit(): void {
  const live = [...open].map((r) => r.deref()).filter((e): e is OpenStack => e !== undefined && e.native() !== null);
  waitUntilSent(live.map((e) => ({ native: e.native()!, linger: e.linger() })), true);
  // DHCP leases are released at exit as by close() (the stacks are deleted right after).
  for (const e of live) releaseAll(e.stack);
}

onExitBeforeDelete(lingerAtExit);
