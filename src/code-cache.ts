// Loads dist/iothts.js (the package's code in one file, src/bundle.ts) compiled from a V8 code
// cache kept for this user, so that starting the hook or the library compiles nothing it compiled
// the last time: the code of the start was most of the hook's startup (docs/internals/hook.md).
// Not in the bundle itself: the three entry points (main.js, register.js, bin/iothts.js) load it.
//
// The cache is $XDG_CACHE_HOME/iothts (default ~/.cache/iothts), one file per installed bundle,
// written when missing or stale, right after its first use has compiled what a start runs.
// NODE_DISABLE_COMPILE_CACHE=1, which turns off Node's own compile cache, turns it off too.
// Any problem with it (no home, a read-only or foreign folder, a damaged or rejected file) only
// means compiling from source, as without it; NODE_DEBUG=iothts says which happened.
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import { Script } from 'node:vm';
import type * as Bundle from './bundle';

const FORMAT = 1;
/** Files kept in the folder: the newest (other installations, earlier builds) beyond are removed. */
const KEEP = 8;

let loaded: typeof Bundle | undefined;

/**
 * The package's code, loaded once per thread; `use` runs first (on the first call), so that a cache
 * written after it holds what that use compiled: the hook's whole start, or the library's top level.
 */
export function loadBundle<T>(use: (bundle: typeof Bundle) => T): T {
  if (loaded) return use(loaded);
  const file = join(__dirname, '..', 'iothts.js');
  // Its size and time taken before its text, from one descriptor: a bundle rewritten meanwhile
  // gets a header older than what was read, so its next start finds the cache stale.
  const fd = openSync(file, 'r');
  let source: string, stat: ReturnType<typeof fstatSync>;
  try {
    stat = fstatSync(fd);
    source = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  const cache = cacheFile(stat);
  const cached = cache ? readCache(cache, stat) : undefined;
  // The CommonJS wrapper, as Node's loader gives a module: the bundle's few own require() calls
  // (node:*, dns-packet, the addon) resolve from its folder.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    { filename: file, cachedData: cached });
  const module = { exports: {} as typeof Bundle };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  loaded = module.exports;
  const result = use(loaded);
  if (!cache) return result;
  if (cached && !script.cachedDataRejected) {
    debug(`code cache ${cache}: used`);
  } else {
    debug(`code cache ${cache}: ${cached ? 'rejected by V8 (other flags?)' : 'none yet'}, writing it`);
    writeCache(cache, stat, script.createCachedData());
  }
  return result;
}

function debug(line: string): void {
  if (/\biothts\b/.test(process.env.NODE_DEBUG ?? '')) process.stderr.write(`iothts: ${line}\n`);
}

// The XDG base directory rule: XDG_CACHE_HOME if it is an absolute path, else ~/.cache.
function folder(): string | undefined {
  const { XDG_CACHE_HOME: xdg, HOME: home } = process.env;
  const base = xdg && isAbsolute(xdg) ? xdg : home && isAbsolute(home) ? join(home, '.cache') : undefined;
  return base && join(base, 'iothts');
}

// One file per installed bundle (its device and inode), for this V8: another install or Node
// version gets a file of its own rather than taking turns with this one.
function cacheFile(stat: { dev: number; ino: number }): string | undefined {
  if (process.env.NODE_DISABLE_COMPILE_CACHE === '1') return undefined;
  const dir = folder();
  return dir && join(dir, `${process.versions.v8}-${stat.dev}-${stat.ino}.v8`);
}

interface Header { format: number; size: number; mtimeMs: number; v8: string; bytes: number }

// V8 checks a code cache's version and flags, not its content (a flipped byte is accepted), so
// the data is stored twice and compared: a native memcmp, where hashing it in JavaScript would
// cost more than the cache saves. The folder and the file must be this user's and no one else's.
function readCache(cache: string, stat: { size: number; mtimeMs: number }): Buffer | undefined {
  let fd: number | undefined;
  try {
    if (!ownedByUs(lstatSync(dirname(cache)))) return undefined;
    fd = openSync(cache, 'r');
    if (!ownedByUs(fstatSync(fd), true)) return undefined;
    const data = readFileSync(fd);
    const end = data.indexOf(10);
    const header = JSON.parse(data.subarray(0, end).toString()) as Header;
    const first = data.subarray(end + 1, end + 1 + header.bytes);
    const second = data.subarray(end + 1 + header.bytes);
    const current = header.format === FORMAT && header.size === stat.size && header.mtimeMs === stat.mtimeMs &&
      header.v8 === process.versions.v8 && first.length === header.bytes && first.equals(second);
    if (!current) debug(`code cache ${cache}: stale or damaged`);
    return current ? first : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') debug(`code cache ${cache}: unreadable (${(err as Error).message})`);
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function ownedByUs(s: { uid: number; mode: number; isDirectory(): boolean; isFile(): boolean }, file = false): boolean {
  return s.uid === process.geteuid!() && (s.mode & 0o022) === 0 && (file ? s.isFile() : s.isDirectory());
}

// Written whole under a temporary name, then renamed into place: a reader sees the old file or
// the new one, never a part, whatever other processes start at the same time.
function writeCache(cache: string, stat: { size: number; mtimeMs: number }, data: Buffer): void {
  const dir = dirname(cache);
  const temporary = `${cache}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    // Two levels at most, made one by one: Node's recursive mkdir spins for good under /proc.
    for (const level of [dirname(dir), dir]) {
      try {
        mkdirSync(level, { mode: 0o700 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    if (!ownedByUs(lstatSync(dir))) {
      debug(`code cache ${dir}: not kept, the folder is not this user's alone`);
      return;
    }
    const { size, mtimeMs } = stat;
    const header: Header = { format: FORMAT, size, mtimeMs, v8: process.versions.v8, bytes: data.length };
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      for (const part of [Buffer.from(`${JSON.stringify(header)}\n`), data, data]) {
        for (let at = 0; at < part.length;) at += writeSync(fd, part, at);
      }
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, cache);
    prune(dir);
  } catch (err) {
    debug(`code cache ${cache}: not written (${(err as Error).message})`);
    try {
      unlinkSync(temporary);
    } catch {
      // never made
    }
  }
}

function prune(dir: string): void {
  const files = readdirSync(dir).filter((f) => f.endsWith('.v8')).map((f) => join(dir, f));
  if (files.length <= KEEP) return;
  const age = (f: string): number => statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const byAge = files.map((f) => ({ f, t: age(f) })).sort((a, b) => b.t - a.t);
  for (const { f } of byAge.slice(KEEP)) {
    try {
      unlinkSync(f);
    } catch {
      // another process pruned it first
    }
  }
}
