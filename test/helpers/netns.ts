// Guards for tests that use vxvde:// or slirp://: they must run inside the private network namespace
// made by scripts/in-private-netns.sh (npm test does it), never in the host's. The network and
// reliability tiers check it before each test file loads (test/setup/private-netns.ts).
import * as os from 'node:os';

export function assertPrivateNetns(): void {
  if (process.env.IOTHTS_PRIVATE_NETNS !== 'inside') {
    throw new Error('these tests use vxvde:// and slirp://: run them with `npm test`, `npm run test:network` or ' +
      '`npm run test:reliability` (scripts/in-private-netns.sh), which make a private network namespace');
  }
  // The private namespace holds only lo: any other interface means this is a real network.
  const outside = Object.entries(os.networkInterfaces())
    .filter(([, addrs]) => (addrs ?? []).some((a) => !a.internal)).map(([name]) => name);
  if (outside.length > 0) {
    throw new Error(`not in a private network namespace: interfaces ${outside.join(', ')} are up`);
  }
}

/** A fresh multicast group per test file, so files running in parallel do not share a network. */
export function vxvdeGroup(): string {
  return `vxvde://234.${(process.pid >> 8) & 255}.${process.pid & 255}.${1 + Math.floor(Math.random() * 250)}`;
}
