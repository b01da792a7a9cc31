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
// the host. node:dns's functions and classes are replaced by the stack's (c-ares opens sockets in
// C++ that cannot be redirected, so it is replaced, not redirected), then synced to ESM imports.
import { syncBuiltinESMExports } from 'node:module';

import { wrapSocketMethods } from '../sockets/bind';
import type { Stack } from '../stack/stack';
import { codedError } from '../internal/errors';
import { QUERY_METHODS } from '../dns/resolver';

// The module object itself (an `import * as` namespace would be a read-only copy of it).
const dns = require('node:dns') as typeof import('node:dns');

interface Binding {
  prototype: Record<string, unknown>;
}

// The socket family each method implies (a udp6 handle calls bind6/connect6/send6).
const TCP_METHODS: Array<[string, 4 | 6]> = [['bind', 4], ['bind6', 6], ['connect', 4], ['connect6', 6], ['listen', 4]];
const UDP_METHODS: Array<[string, 4 | 6]> = [['bind', 4], ['bind6', 6], ['connect', 4], ['connect6', 6], ['send', 4], ['send6', 6]];

let active: { stack: Stack; restore: () => void } | null = null;

function bindings(): { TCP: Binding; UDP: Binding } {
  const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
  try {
    return { TCP: binding('tcp_wrap').TCP as Binding, UDP: binding('udp_wrap').UDP as Binding };
  } catch (err) {
    // The flag as this Node spells it: --experimental-permission up to 22, --permission from 22.
    const flag = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
    throw codedError('ERR_IOTH_OVERRIDE', `iothts cannot reach Node's socket handles (${(err as Error).message}); ` +
      `the override does not work under ${flag}`);
  }
}

// node:dns's functions the stack's replace: the query methods come from the resolver's one table.
const DNS_FUNCTIONS = ['lookup', 'lookupService', 'resolve', ...QUERY_METHODS, 'getServers', 'setServers', 'Resolver'];

function replaceDns(stack: Stack): () => void {
  const targets: Array<[Record<string, unknown>, Record<string, unknown>]> = [
    [dns as unknown as Record<string, unknown>, stack.dns as unknown as Record<string, unknown>],
    [dns.promises as unknown as Record<string, unknown>, stack.dns.promises as unknown as Record<string, unknown>],
  ];
  const saved: Array<[Record<string, unknown>, string, PropertyDescriptor | undefined]> = [];
  for (const [target, source] of targets) {
    for (const name of DNS_FUNCTIONS) {
      if (!(name in source)) continue;
      saved.push([target, name, Object.getOwnPropertyDescriptor(target, name)]);
      Object.defineProperty(target, name, {
        value: source[name], writable: true, configurable: true, enumerable: true,
      });
    }
  }
  syncBuiltinESMExports();
  return () => {
    for (const [target, name, descriptor] of saved.reverse()) {
      if (descriptor) Object.defineProperty(target, name, descriptor);
    }
    syncBuiltinESMExports();
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
  const { TCP, UDP } = bindings();
  const undo = [wrapSocketMethods(TCP.prototype, TCP_METHODS, stack, 'tcp'), wrapSocketMethods(UDP.prototype, UDP_METHODS, stack, 'udp'), replaceDns(stack)];
  const restore = (): void => {
    if (active?.restore !== restore) return;
    for (const u of undo.reverse()) u();
    active = null;
  };
  active = { stack, restore };
  return restore;
}

/** The stack currently overriding the process, if any. */
export function overridingStack(): Stack | null {
  return active?.stack ?? null;
}
