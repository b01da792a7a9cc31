// Facts about the host that the doctor's checks read: Debian's release, user and group names,
// where the dynamic linker finds a library, whether it loads, which Debian package is installed.
// Every function answers without throwing: a fact that cannot be read is null.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../../internal/package-root';

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** A one-line sysctl value from /proc/sys (e.g. 'kernel/unprivileged_userns_clone'), or null. */
export function sysctl(name: string): string | null {
  return readText(path.join('/proc/sys', name))?.trim() ?? null;
}

/** VERSION_CODENAME of /etc/os-release ('bookworm', 'trixie'), or null. */
export function debianCodename(): string | null {
  const m = /^VERSION_CODENAME=["']?([^"'\n]*)/m.exec(readText('/etc/os-release') ?? '');
  return m?.[1] || null;
}

function nameOf(file: string, id: number): string {
  for (const line of (readText(file) ?? '').split('\n')) {
    const fields = line.split(':');
    if (fields.length > 2 && Number(fields[2]) === id) return fields[0];
  }
  return String(id);
}

export const userName = (uid: number): string => nameOf('/etc/passwd', uid);
export const groupName = (gid: number): string => nameOf('/etc/group', gid);

/** A program's result, run without a shell and bounded in time. */
export function run(
  file: string, args: string[], timeoutMs = 10000,
): { stdout: string; stderr: string; status: number | null; error?: NodeJS.ErrnoException } {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status, error: r.error as NodeJS.ErrnoException | undefined };
}

let ldCache: string | null | undefined;
/** Where the dynamic linker's cache (ldconfig -p) puts a soname for this architecture, or null. */
export function librarySearch(soname: string): string | null {
  if (ldCache === undefined) {
    ldCache = null;
    for (const ldconfig of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
      const r = run(ldconfig, ['-p']);
      if (r.status === 0) {
        ldCache = r.stdout;
        break;
      }
    }
  }
  const arch = process.arch === 'x64' ? 'x86-64' : process.arch === 'arm64' ? 'AArch64' : '';
  for (const line of (ldCache ?? '').split('\n')) {
    const m = /^\s*(\S+) \(([^)]*)\) => (.+)$/.exec(line);
    if (m && m[1] === soname && (!arch || m[2].includes(arch))) return m[3];
  }
  return null;
}

/** The file a soname resolves to, through symlinks (libioth.so.0 -> libioth.so.0.1.0), or null. */
export function libraryFile(soname: string): string | null {
  const found = librarySearch(soname);
  if (!found) return null;
  try {
    return fs.realpathSync(found);
  } catch {
    return found;
  }
}

/**
 * Loads a shared library the way the addon's loader would (dlopen, with its dependencies) and
 * returns null when it loads, or the dynamic linker's message. Node's process.dlopen() is the only
 * dlopen in reach without the addon; a library that is not an addon loads and then "did not
 * self-register", which is Node's complaint, not the linker's: that counts as loaded.
 */
export function dlopenError(soname: string): string | null {
  try {
    process.dlopen({ exports: {} }, soname);
    return null;
  } catch (err) {
    const message = (err as Error).message;
    return /did not self-register/.test(message) ? null : message;
  }
}

/** Installed version of a Debian package, or null (no dpkg, or not installed). */
export function debianPackage(name: string): string | null {
  const r = run('dpkg-query', ['-W', '-f=${db:Status-Status} ${Version}', name]);
  const m = /^installed (\S+)/.exec(r.stdout);
  return r.status === 0 && m ? m[1] : null;
}

/** A library's name without its version: libvdeplug.so.4.0.0 and libvdeplug.so.2 give libvdeplug. */
export const libraryBase = (file: string): string => path.basename(file).replace(/\.so(\.[\d.]*)?$/, '');

/** The Debian package that ships a library iothts needs, by release (Debian 13 renamed libvdeplug2). */
export function packageForLibrary(file: string, codename: string | null): string | null {
  const packages: Record<string, string> = {
    libioth: 'libioth0',
    libvdeplug: codename === 'bookworm' ? 'libvdeplug2' : 'libvdeplug2t64',
    libfduserdata: 'libfduserdata0',
    libmhash: 'libmhash2',
  };
  return packages[libraryBase(file)] ?? null;
}

/** The library a dynamic linker message is about ("libx.so.1: cannot open shared object file ..."). */
export function failingLibrary(message: string): string | null {
  return /^(?:.*\/)?([\w.+-]+\.so[.\d]*): /.exec(message)?.[1] ?? null;
}

export interface PackageRoot {
  dir: string;
  json: { version?: string; engines?: { node?: string }; iothts?: { testedNode?: number[] } };
}

/** The package's root and its package.json. */
export function packageInfo(): PackageRoot {
  const dir = packageRoot();
  let json = {};
  try {
    json = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  } catch {
    // reported by the node check as "engines unknown"
  }
  return { dir, json };
}
