// Whether this process runs in a chroot. The kernel refuses to create a user namespace (EPERM) for a
// process whose root is not the root of its mount namespace, so vdestack cannot work in a chroot;
// a root entered through a private mount namespace and pivot_root (as containers do) is fine.
import * as fs from 'node:fs';

export interface ChrootFinding {
  /** true: a chroot; false: not one; null: cannot tell from here (the user namespace probe may). */
  chrooted: boolean | null;
  /** What the answer rests on, for the report. */
  evidence: string;
}

function sameMountNamespaceAsPid1(): boolean | null {
  try {
    return fs.readlinkSync('/proc/self/ns/mnt') === fs.readlinkSync('/proc/1/ns/mnt');
  } catch {
    return null; // pid 1's namespace is not ours to read (another user, or no ptrace access)
  }
}

export function detectChroot(): ChrootFinding {
  // pid 1 of the same mount namespace is not chrooted: when its root is readable, compare.
  if (sameMountNamespaceAsPid1()) {
    try {
      const ours = fs.statSync('/');
      const init = fs.statSync('/proc/1/root');
      if (ours.dev !== init.dev || ours.ino !== init.ino) {
        return { chrooted: true, evidence: `/ (device ${ours.dev}, inode ${ours.ino}) is not the root of pid 1 (device ${init.dev}, inode ${init.ino}), in the same mount namespace` };
      }
      return { chrooted: false, evidence: '/ is the root of pid 1, in the same mount namespace' };
    } catch {
      // fall through to what this process can see by itself
    }
  }
  let mountinfo: string;
  try {
    mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return { chrooted: null, evidence: '/proc/self/mountinfo cannot be read: /proc is not mounted (mount -t proc proc /proc)' };
  }
  // Field 5 is the mount point relative to this process's root; a chroot into a plain directory
  // has no mount at its root (the file system holding it is mounted somewhere above it).
  const mountedAtRoot = mountinfo.split('\n').some((line) => line.split(' ')[4] === '/');
  if (!mountedAtRoot) {
    return { chrooted: true, evidence: 'no file system is mounted at / (/proc/self/mountinfo): / is a directory of a file system mounted outside this root' };
  }
  return { chrooted: null, evidence: 'a file system is mounted at /' };
}
