// What node-gyp-build and every .node file resolve to in the unit tier (jest.config.js): unit tests
// run where the addon is not built and libioth is not installed, so loading it is an error. The
// attempt is also recorded, so that code which catches the error (the doctor does) still fails the
// test file (test/setup/unit.ts).
const where = (new Error().stack ?? '').split('\n').slice(2).find((l) => !l.includes('node_modules')) ?? '(unknown)';
(globalThis.__iothtsAddonLoads ??= []).push(where.trim());
const error = new Error(`unit tests must not load the native addon: a unit test runs without it; move this test to test/stack/ (${where.trim()})`);
error.code = 'ERR_IOTH_UNIT_ADDON';
throw error;
