// Which libioth plugins are installed, for errors that tell the user what they can choose from.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addonPath, native } from '../internal/native';

/**
 * The directories libioth searches, in its order: ~/.ioth, then the system plugin directory; and
 * the one beside the addon that holds vdebridge (found there for that name only: docs/api/stack.md).
 */
export function pluginDirs(): string[] {
  return [path.join(process.env.HOME ?? '.', '.ioth'), native.pluginDir(), vdebridgeDir()];
}

/** Where the package's vdebridge plugin and its helper program are: beside the addon. */
export function vdebridgeDir(): string {
  return path.join(path.dirname(addonPath()), 'vdebridge', '.ioth');
}

/** Plugin names found in pluginDirs(): "ioth_vdestack-r.so" and "ioth_vdestack.so" give "vdestack". */
export function installedPlugins(): string[] {
  const names = new Set<string>();
  for (const dir of pluginDirs()) {
    let entries: string[];
    try {
      entries = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const m = /^ioth_(.+?)(-r)?\.so$/.exec(entry);
      if (m && !m[1].endsWith('_n')) names.add(m[1]);
    }
  }
  return [...names].sort();
}

export function describePluginDirs(): string {
  return pluginDirs().map((d) => d.replace(os.homedir(), '~')).join(' and ');
}
