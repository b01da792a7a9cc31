// whenLoaded(name, run): runs `run` right before the program first gets the built-in module `name`
// (or now, if it is loaded already), so the hook prepares a module only for a program that uses it,
// and still before that program holds any of it. A program gets a built-in through require(), an
// ESM import or process.getBuiltinModule(): a module.registerHooks() resolve hook sees the first two
// (Node 22.15+, 23.5+; in the thread, synchronous, no warning), and getBuiltinModule is wrapped. On a
// Node without registerHooks (20) nothing synchronous sees an ESM import of a built-in, so `run`
// runs now: the cost of loading the module early is that Node's.
const pending = new Map<string, Array<() => void>>();
let hooks: { deregister(): void } | undefined;
let getBuiltin: ((id: string) => unknown) | undefined;

/** Whether the built-in `name` is loaded (Node's own list of the modules it has loaded). */
export function isLoaded(name: string): boolean {
  return (process as unknown as { moduleLoadList: string[] }).moduleLoadList.includes(`NativeModule ${name}`);
}

function fire(specifier: unknown): void {
  if (typeof specifier !== 'string') return;
  const name = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  // Each run takes itself (and its other names) off the list before it runs.
  for (const run of [...(pending.get(name) ?? [])]) run();
}

function stopWatching(): void {
  hooks?.deregister();
  hooks = undefined;
  const p = process as { getBuiltinModule?: (id: string) => unknown };
  if (getBuiltin) p.getBuiltinModule = getBuiltin;
  getBuiltin = undefined;
}

/**
 * Runs `run` once, right before the program first gets one of the built-ins `names` (now, if one
 * is loaded already). Returns a function that cancels it if it has not run yet.
 */
export function whenLoaded(names: string | string[], run: () => void): () => void {
  const list = typeof names === 'string' ? [names] : names;
  const { registerHooks } = require('node:module') as { registerHooks?: (h: object) => { deregister(): void } };
  if (list.some(isLoaded) || !registerHooks) {
    run();
    return () => undefined;
  }
  let done = false;
  // Takes `once` off every name's list (the first time only); whether it was still waiting.
  const cancel = (): boolean => {
    if (done) return false;
    done = true;
    for (const name of list) {
      const left = (pending.get(name) ?? []).filter((r) => r !== once);
      if (left.length) pending.set(name, left);
      else pending.delete(name);
    }
    if (pending.size === 0) stopWatching();
    return true;
  };
  const once = (): void => {
    if (cancel()) run();
  };
  for (const name of list) pending.set(name, [...(pending.get(name) ?? []), once]);
  if (!hooks) {
    // The package's own requests are not the program's first use: its code is one file, this one
    // (dist/iothts.js; unbundled, as only tests load it, each of its files would count as the app).
    const own = (require('node:url') as typeof import('node:url')).pathToFileURL(__filename).href;
    hooks = registerHooks({
      resolve(specifier: string, context: { parentURL?: string }, next: (s: string, c: unknown) => unknown): unknown {
        if (context.parentURL !== own) fire(specifier);
        return next(specifier, context);
      },
    });
    const p = process as { getBuiltinModule?: (id: string) => unknown };
    const original = p.getBuiltinModule;
    if (typeof original === 'function') {
      getBuiltin = original;
      p.getBuiltinModule = function getBuiltinModule(this: unknown, id: string): unknown {
        fire(id);
        return Reflect.apply(original, this, [id]);
      };
    }
  }
  return () => {
    cancel();
  };
}
