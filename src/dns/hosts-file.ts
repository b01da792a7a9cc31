// A hosts file (hosts(5): an address, then its names; '#' starts a comment), read as glibc reads
// /etc/hosts for getaddrinfo: again whenever it changed. The stack's hosts table starts from the
// host's file, so names such as localhost resolve on a stack as they do on the host.
import * as fs from 'node:fs';

export interface FileEntry {
  name: string;
  address: string;
}

export const HOST_HOSTS_FILE = '/etc/hosts';

/** The entries of a hosts file's text, in file order (an address's names in line order). */
export function parseHostsFile(text: string): FileEntry[] {
  const entries: FileEntry[] = [];
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    for (const name of address ? names : []) entries.push({ name, address });
  }
  return entries;
}

/** The entries of the file at `path`, re-read when its mtime or size changes; null when it cannot be read. */
export function hostsFileReader(path: string): () => FileEntry[] | null {
  let seen: { key: string; entries: FileEntry[] } | null = null;
  return () => {
    try {
      const st = fs.statSync(path);
      const key = `${st.mtimeMs}:${st.size}:${st.ino}`;
      if (seen?.key !== key) seen = { key, entries: parseHostsFile(fs.readFileSync(path, 'utf8')) };
      return seen.entries;
    } catch {
      seen = null;
      return null;
    }
  };
}
