// override(stack): every TCP and UDP socket the process opens from now on lives on `stack`, and
// every name look-up of node:dns goes through the stack's resolver. iothpy's
// override_socket_module, for all of Node's networking at once.
//
// Mechanism, chosen by what reaches everything: libuv creates a TCP or UDP handle's socket only at
// its first bind/connect/listen/send. Node's TCP and UDP handle classes (the tcp_wrap and udp_wrap
// bindings) are patched on their prototypes so that, at that moment, a socket of the stack is
// opened into the handle instead. Every path of Node ends in these handles: net, http, https, tls,
// http2, the global fetch (undici), dgram, cluster, and whatever captured a class or a function
// before; ESM and CommonJS alike. UNIX sockets and pipes use other handle classes and stay on
// the host. node:dns's lookup() and lookupService() stay Node's, answered by the stack's resolver
// through the two binding calls they make (dns-binding.ts); its queries and Resolver are replaced
// by the stack's (c-ares opens sockets in C++ that cannot be redirected), by thin functions that
// load the stack's resolver at their first call (dns-functions.ts), then synced to ESM imports.
// os.networkInterfaces() lists the stack's interfaces (interfaces.ts). Both replacements go in
// when the program first gets node:dns or node:os (when-loaded.ts), not before.
// The same patch serves scopes (stack.run, scope.ts): it asks, per handle, for the scope's stack
// first (scope-store.ts), then the override's; with neither, it leaves the handle to Node.
// Nothing here loads a module Node has not loaded: the hook runs before the app, and an app that
// prepares a module before its first require must find it unloaded (docs/internals/hook.md).
import { wrapSocketMethods, type UvHandle } from '../sockets/bind';
import { wrapRecvStart } from '../sockets/udp-receive';
import type { Stack } from '../stack/stack';
import { codedError } from '../internal/errors';
// node:dns's own functions, which the stack's resolver calls for Node's exact errors, are taken
// before the stack's go in (a wrapper taken there would call the stack's resolver back forever).
import { takeNodeDns } from '../internal/node-reference';
import { answerLookupsFrom } from './dns-binding';
import { replaceDnsFunctions } from './dns-functions';
import { replaceNetworkInterfaces } from './interfaces';
import { scopeStack, scopesUsed } from './scope-store';
import { whenLoaded } from './when-loaded';

interface Binding {
  prototype: Record<string, unknown>;
}

// The socket family each method implies (a udp6 handle calls bind6/connect6/send6).
const TCP_METHODS: Array<[string, 4 | 6]> = [['bind', 4], ['bind6', 6], ['connect', 4], ['connect6', 6], ['listen', 4]];
const UDP_METHODS: Array<[string, 4 | 6]> = [['bind', 4], ['bind6', 6], ['connect', 4], ['connect6', 6], ['send', 4], ['send6', 6]];

let active: { stack: Stack; restore: () => void } | null = null;
// The handle patch and the node:dns answers (one for the override and the scopes), and its undoing;
// once a scope was made it stays for the process's life: a scope's callbacks may open sockets at any
// later time, so no moment says it is no longer needed.
let patch: (() => void) | null = null;
let forScopes = false;

/** The stack new sockets and look-ups use here and now: the scope's, else the override's; null: the host. */
export function currentStack(): Stack | null {
  const scoped = scopeStack();
  return scoped !== undefined ? scoped : active?.stack ?? null;
}

// Which stack each handle's socket was opened on, once scopes exist (a handle outlives its scope).
const owners = new WeakMap<object, Stack | null>();

/** The stack of a handle: where its socket is, or, before it has one, where it is to be opened. */
function handleStack(handle: UvHandle): Stack | null {
  if (handle.fd >= 0) return owners.has(handle) ? owners.get(handle)! : active?.stack ?? null;
  const stack = currentStack();
  if (scopesUsed()) owners.set(handle, stack);
  return stack;
}

/**
 * process.binding() without DEP0111: under --pending-deprecation it is util.deprecate's wrapper,
 * which warns once per process, so the hook's own call would warn as if the app had called it (and
 * exit 1 under --throw-deprecation) and would use up the app's one warning. util.deprecate reads
 * process.noDeprecation at each call (Node >= 20.12), a flag documented as settable at run time.
 */
function quietBinding(name: string): Record<string, unknown> {
  const before = Object.getOwnPropertyDescriptor(process, 'noDeprecation');
  process.noDeprecation = true;
  try {
    return (process as unknown as { binding(name: string): Record<string, unknown> }).binding(name);
  } finally {
    if (before) Object.defineProperty(process, 'noDeprecation', before);
    else delete (process as { noDeprecation?: boolean }).noDeprecation;
  }
}

function bindings(): { TCP: Binding; UDP: Binding } {
  try {
    return { TCP: quietBinding('tcp_wrap').TCP as Binding, UDP: quietBinding('udp_wrap').UDP as Binding };
  } catch (err) {
    // The flag as this Node spells it: --experimental-permission up to 22, --permission from 22.
    const flag = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
    throw codedError('ERR_IOTH_OVERRIDE', `iothts cannot reach Node's socket handles (${(err as Error).message}); ` +
      `the override does not work under ${flag}`);
  }
}

type Exports = Record<string | symbol, unknown>;

/**
 * ESM imports of node:dns and node:os made before now (another preload's) see the replacements too;
 * later ones do anyway (Node syncs a built-in's ESM exports at each import).
 */
function syncESM(): void {
  (require('node:module') as typeof import('node:module')).syncBuiltinESMExports();
}

/**
 * Runs `replace` right before the program first gets one of the built-ins `names` (now, if it is
 * loaded): a program that never uses node:dns or node:os does not load them for the hook. Node's
 * own modules need neither replacement: net and dgram look names up through node:dns's lookup(),
 * whose binding is answered from the start. Returns its undoing, or its cancelling.
 */
function onFirstUse(names: string[], replace: () => () => void): () => void {
  let undo: (() => void) | undefined;
  const cancel = whenLoaded(names, () => {
    undo = replace();
    syncESM();
  });
  return () => (undo ? undo() : cancel());
}

function replaceDnsModule(): () => void {
  takeNodeDns();
  // The module objects themselves (an `import * as` namespace would be a read-only copy of them).
  const dns = require('node:dns') as typeof import('node:dns');
  // The host's: no function of the stack's, so Node's own.
  const none: Exports = {};
  const undo = [
    replaceDnsFunctions(dns as unknown as Exports, () => (currentStack()?.dns ?? none) as unknown as Exports),
    replaceDnsFunctions(dns.promises as unknown as Exports,
      () => (currentStack()?.dns.promises ?? none) as unknown as Exports),
  ];
  return () => {
    for (const u of undo.reverse()) u();
  };
}

/** Open TCP/UDP handles: sockets of the host already in use, which no override can move. */
function hostSockets(): string[] {
  const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
  return handles.map((h) => {
    const handle = (h as { _handle?: object })._handle ?? h;
    return handle?.constructor?.name ?? '';
  }).filter((name) => name === 'TCP' || name === 'UDP');
}

/**
 * Puts the process's networking on `stack`: every TCP and UDP socket opened afterwards, and every
 * node:dns look-up. Throws ERR_IOTH_OVERRIDE when sockets of the host are already open (they could
 * not be moved: refuse rather than half-work) or when another stack is already in place.
 * Returns a function that undoes it (sockets already open stay where they are).
 */
export function override(stack: Stack): () => void {
  if (active) {
    if (active.stack === stack) return active.restore;
    throw codedError('ERR_IOTH_OVERRIDE', 'another stack already overrides this process; call the function override() returned first');
  }
  if (stack.closed) throw codedError('ERR_IOTH_STACK_CLOSED', 'Cannot override with a closed stack');
  const open = hostSockets();
  if (open.length > 0) {
    throw codedError('ERR_IOTH_OVERRIDE', `${open.length} host socket(s) (${open.join(', ')}) are already open; ` +
      'the override must come first (node --import iothts/register, or override() before any networking)');
  }
  installPatch();
  const undoInterfaces = onFirstUse(['os'], () => replaceNetworkInterfaces(stack));
  const restore = (): void => {
    if (active?.restore !== restore) return;
    undoInterfaces();
    if (!forScopes) patch?.();
    syncESM();
    active = null;
  };
  active = { stack, restore };
  return restore;
}

function installPatch(): void {
  if (patch) return;
  const { TCP, UDP } = bindings();
  const undo = [wrapSocketMethods(TCP.prototype, TCP_METHODS, handleStack, 'tcp'), wrapSocketMethods(UDP.prototype, UDP_METHODS, handleStack, 'udp'),
    wrapRecvStart(UDP.prototype, (h) => handleStack(h as UvHandle) !== null), answerLookupsFrom(quietBinding('cares_wrap'), currentStack),
    onFirstUse(['dns', 'dns/promises'], replaceDnsModule)];
  patch = () => {
    for (const u of undo.reverse()) u();
    patch = null;
  };
}

/** The first scope (scope.ts): the handle patch goes in if it is not in already, for good. */
export function keepPatchForScopes(): void {
  installPatch();
  forScopes = true;
}

/** The stack currently overriding the process, if any. */
export function overridingStack(): Stack | null {
  return active?.stack ?? null;
}
