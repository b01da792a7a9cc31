// IOTHTS_ADDON (test-only: scripts/asan.sh's sanitizer build) is checked before anything loads.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addonPath } from '../../src/internal/native';

const saved = process.env.IOTHTS_ADDON;
afterEach(() => {
  if (saved === undefined) delete process.env.IOTHTS_ADDON; else process.env.IOTHTS_ADDON = saved;
});

test('IOTHTS_ADDON naming no file, or a relative path, is refused with ERR_IOTH_ADDON and the value', () => {
  for (const value of ['/nonexistent/iothts.node', 'build-asan/RelWithDebInfo/iothts.node', os.tmpdir()]) {
    process.env.IOTHTS_ADDON = value;
    expect(() => addonPath()).toThrow(expect.objectContaining({
      code: 'ERR_IOTH_ADDON',
      message: expect.stringContaining(`IOTHTS_ADDON (test-only) must be the absolute path of an addon file; ${JSON.stringify(value)}`),
    }));
  }
});

test('IOTHTS_ADDON naming a file is the path loaded', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothts-addon-'));
  const file = path.join(dir, 'x.node');
  fs.writeFileSync(file, '');
  try {
    process.env.IOTHTS_ADDON = file;
    expect(addonPath()).toBe(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
