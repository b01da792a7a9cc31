// vxvde VNLs get a large receive buffer unless they name one (src/stack/vnl-defaults.ts). Checked
// on the real socket (in the network tier: vxvde stays in the private namespace): the UDP sockets of
// this private network namespace, as `ss` reports their
// receive buffers (the kernel doubles what is asked, up to net.core.rmem_max).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { Stack } from '../../src';
import { VXVDE_RCVBUF, withVnlDefaults } from '../../src/stack/vnl-defaults';
import { vxvdeGroup } from '../helpers/netns';

/**
 * The receive buffers (bytes) of this process's UDP sockets, largest first: `ss -p` names each
 * socket's processes (other test files run in this namespace at the same time), and puts its
 * memory on the next line.
 */
function udpReceiveBuffers(): number[] {
  const lines = execFileSync('ss', ['-uanmp'], { encoding: 'utf8' }).split('\n');
  const ours = new RegExp(`pid=${process.pid},`);
  return lines.flatMap((line, i) => {
    const memory = ours.test(line) ? /skmem:\(r\d+,rb(\d+)/.exec(lines[i + 1] ?? '') : null;
    return memory ? [Number(memory[1])] : [];
  }).sort((a, b) => b - a);
}

const rmemMax = Number(fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
const granted = (bytes: number) => 2 * Math.min(bytes, rmemMax);

test('vxvde VNLs without rcvbuf= get one; others, and those that name one, are left as they are', () => {
  expect(VXVDE_RCVBUF).toBe('4M');
  expect(withVnlDefaults('vxvde://234.0.0.1')).toBe('vxvde://234.0.0.1/rcvbuf=4M');
  expect(withVnlDefaults('vxvde://')).toBe('vxvde:///rcvbuf=4M');
  expect(withVnlDefaults('vxvde://ff15::3/port=12345/vni=42')).toBe('vxvde://ff15::3/port=12345/vni=42/rcvbuf=4M');
  expect(withVnlDefaults('vxvde://234.0.0.1/')).toBe('vxvde://234.0.0.1/rcvbuf=4M');
  expect(withVnlDefaults('vxvde://234.0.0.1/rcvbuf=64k')).toBe('vxvde://234.0.0.1/rcvbuf=64k');
  expect(withVnlDefaults('eth1:vxvde://234.0.0.1')).toBe('eth1:vxvde://234.0.0.1/rcvbuf=4M');
  expect(withVnlDefaults('eth1:vxvde://234.0.0.1/rcvbuf=1M')).toBe('eth1:vxvde://234.0.0.1/rcvbuf=1M');
  expect(withVnlDefaults('cmd://echo vxvde://x')).toBe('cmd://echo vxvde://x');
  for (const other of ['vde:///run/sw', 'hub:///tmp/hub', 'slirp://', 'null://', 'ptp:///tmp/p', 'udp://1.2.3.4:5']) {
    expect(withVnlDefaults(other)).toBe(other);
  }
});

test('a vxvde stack\'s unicast socket has the large buffer, or the one its VNL names; stack.vnls stays as given', () => {
  const before = udpReceiveBuffers().length;
  const group = vxvdeGroup();
  const stack = new Stack('vdestack', group);
  try {
    expect(stack.vnls).toEqual([group]);
    const buffers = udpReceiveBuffers();
    expect(buffers.length - before).toBe(2); // vxvde's multicast and unicast sockets
    expect(buffers[0]).toBe(granted(4 * 1024 * 1024));
  } finally {
    stack.close();
  }
  const own = new Stack('vdestack', `${vxvdeGroup()}/rcvbuf=96k`);
  try {
    expect(udpReceiveBuffers()).toContain(granted(96 * 1024));
    expect(udpReceiveBuffers()).not.toContain(granted(4 * 1024 * 1024));
  } finally {
    own.close();
  }
});
