// Connection pools under scopes: a keep-alive connection opened in one scope lives on that scope's
// stack, so it must never carry a request of another. Node's two pools are split by stack:
// - http.Agent (and https.Agent, whose getName() calls http's): a pool's name gets the stack's key,
//   so each stack has its own free sockets in every agent, the global ones and the app's;
// - undici's global dispatcher (fetch, and WebSocket/EventSource from Node 22): an Agent per stack,
//   chosen at each request by the scope it is made in.
// Both only for a scope whose stack is not the process default's (the override's, else the host).
import type { Stack } from '../stack/stack';
import { overridingStack } from './override';
import { scopeStack } from './scope-store';
import { whenLoaded } from './when-loaded';

const HOST = { host: true } as const;
type Choice = Stack | typeof HOST;

/** The scope's own stack (HOST: the host's) when it is not the process default, else undefined. */
function ownChoice(): Choice | undefined {
  const scoped = scopeStack();
  if (scoped === undefined || scoped === overridingStack()) return undefined;
  return scoped ?? HOST;
}

const keys = new WeakMap<Choice, string>();
let next = 0;
const keyOf = (choice: Choice): string => {
  let key = keys.get(choice);
  if (key === undefined) keys.set(choice, key = choice === HOST ? 'iothts-host' : `iothts-stack-${++next}`);
  return key;
};

/** http.Agent's pool names keyed by stack, from the program's first use of http or https. */
export function keyHttpAgents(): void {
  whenLoaded(['http', 'https'], () => {
    const { Agent } = require('node:http') as typeof import('node:http');
    const getName = Agent.prototype.getName;
    Agent.prototype.getName = function (this: unknown, ...args: unknown[]): string {
      const name = Reflect.apply(getName, this, args) as string;
      const choice = ownChoice();
      return choice === undefined ? name : `${name}:${keyOf(choice)}`;
    };
  });
}

interface Dispatcher {
  dispatch(...args: unknown[]): unknown;
  close(): Promise<void>;
}
type Symbols = Record<symbol, Dispatcher | undefined>;
const global = globalThis as unknown as Symbols;

// undici's global dispatcher, by version: .1 (Node 20, 22; 24 has both, the same Agent), .2 (Node 26,
// where .1 wraps it for older undici packages). fetch reads the newest.
const SYMBOLS = [2, 1].map((n) => Symbol.for(`undici.globalDispatcher.${n}`));
/** The newest of them that undici has set (a value, not the accessor put there while waiting). */
const setSymbol = (): symbol | undefined => SYMBOLS.find((s) => Object.getOwnPropertyDescriptor(global, s)?.value);

/**
 * Puts in undici's place a dispatcher that hands each request to the agent of its scope's stack
 * (one made at its first request, of the default's class), the default's outside. If undici is not
 * loaded yet (a program's first fetch loads it), this waits for undici to set its dispatcher, and
 * then retires that first agent too: the fetch that loaded undici may have pooled a connection there
 * from a scope.
 */
export function splitUndiciPool(): void {
  const loaded = setSymbol();
  if (loaded) {
    takeOver(loaded, false);
    return;
  }
  let pending = false;
  const traps = SYMBOLS.filter((s) => !(s in global));
  for (const s of traps) {
    // undici reads its symbol at its load, then defines it (a data property, not configurable),
    // which replaces this accessor; the microtask then finds its value.
    Object.defineProperty(global, s, {
      configurable: true,
      get() {
        if (!pending) {
          pending = true;
          queueMicrotask(() => {
            for (const t of traps) if (Object.getOwnPropertyDescriptor(global, t)?.get) delete global[t];
            const set = setSymbol();
            if (set) takeOver(set, true);
          });
        }
        return undefined;
      },
    });
  }
}

function takeOver(symbol: symbol, retire: boolean): void {
  const first = global[symbol]!;
  const Agent = first.constructor as new (inner?: Dispatcher) => Dispatcher;
  // A dispatcher of the app's own (a ProxyAgent, a mock): its pooling is the app's.
  if (Agent?.name !== 'Agent') return;
  const fallback = retire ? new Agent() : first;
  const agents = new WeakMap<Choice, Dispatcher>();
  const current = (): Dispatcher => {
    const choice = ownChoice();
    if (choice === undefined) return fallback;
    let agent = agents.get(choice);
    if (!agent) agents.set(choice, agent = new Agent());
    return agent;
  };
  const scoped = new Proxy(fallback, {
    get(_target, property) {
      const agent = current();
      const value = Reflect.get(agent, property, agent) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(agent) : value;
    },
  });
  // Every symbol holding that agent (Node 24's two), by assignment: undici made them writable; and
  // Node 26's wrapper of it for older undici packages, made anew around the scoped one.
  for (const s of SYMBOLS) {
    const value = global[s];
    if (value === first) global[s] = scoped;
    else if (value && value !== scoped) {
      try {
        global[s] = new (value.constructor as new (inner: Dispatcher) => Dispatcher)(scoped);
      } catch {
        // not a wrapper: left as it is
      }
    }
  }
  if (retire) void first.close().catch(() => undefined);
}
