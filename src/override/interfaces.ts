// os.networkInterfaces() under the override: the stack's interfaces (stack.interfaces(), in Node's
// shape), since the app's sockets, and the addresses a library picks from this list, are the stack's.
// It goes in when the program first gets node:os (override.ts); the function is thin, as
// dns-functions.ts's.
import type { Stack } from '../stack/stack';

export function replaceNetworkInterfaces(stack: Stack): () => void {
  const os = require('node:os') as typeof import('node:os');
  const descriptor = Object.getOwnPropertyDescriptor(os, 'networkInterfaces')!;
  Object.defineProperty(os, 'networkInterfaces', {
    ...descriptor,
    value: function networkInterfaces(): ReturnType<typeof os.networkInterfaces> {
      return stack.interfaces();
    },
  });
  return () => Object.defineProperty(os, 'networkInterfaces', descriptor);
}
