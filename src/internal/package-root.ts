// Where the package's own files are: the nearest folder above this module that holds package.json
// (the clone under ts-jest, and the installed package from dist/, where its code is one file, alike). A fixed rule,
// not a guess from the folder names on the way.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return (root = dir);
    if (dirname(dir) === dir) throw new Error(`iothts: no package.json above ${__dirname}`);
  }
}
