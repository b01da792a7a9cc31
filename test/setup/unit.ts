// The unit tier's guarantee, checked for every unit test file: the native addon was not loaded.
// Two witnesses: the attempts recorded by test/setup/no-addon.js (what node-gyp-build and .node
// files resolve to here), and the shared objects mapped into this process (/proc/self/maps on
// Linux: an iothts.node or libioth mapped during the file, when it was not before).
import * as fs from 'node:fs';

const ADDON = /\/(iothts\.node|libioth\.so[.\d]*)$/m;
const mapped = (): boolean | null => {
  try {
    return ADDON.test(fs.readFileSync('/proc/self/maps', 'utf8'));
  } catch {
    return null; // not Linux: the recorded attempts still count
  }
};
// A jest worker may have run a stack test file before this one: then the maps cannot tell.
const mappedBefore = mapped();

// Pure logic is quick: a unit test still running after 10 s hangs (the other tiers allow 30 s).
jest.setTimeout(10000);

afterAll(() => {
  const attempts = (globalThis as { __iothtsAddonLoads?: string[] }).__iothtsAddonLoads ?? [];
  if (attempts.length > 0) {
    throw new Error(`a unit test loaded (or tried to load) the native addon ${attempts.length} time(s), first ${attempts[0]}`);
  }
  if (mappedBefore === false && mapped()) throw new Error('the native addon (or libioth) got mapped into this process during a unit test file');
});
