// The test pyramid as jest projects, one folder each (npm run test:<tier>, or jest --selectProjects):
//   unit         pure logic: no addon, no namespace, no root; runs on any machine with Node
//   stack        the addon and user namespaces: stacks on null:// and hubs inside one process
//   network      a private network namespace (vxvde, slirp, hubs between processes, the override)
//   reliability  load, integrity, faults, scale, fuzzing (private network namespace too)
const fs = require('node:fs');
const path = require('node:path');

// A test file outside the tier folders would match no project and silently never run.
const loose = fs.readdirSync(path.join(__dirname, 'test')).filter((f) => f.endsWith('.test.ts'));
if (loose.length > 0) {
  throw new Error(`jest.config.js: ${loose.map((f) => `test/${f}`).join(', ')} must move into a tier folder ` +
    '(test/unit, test/stack, test/network or test/reliability): each folder is a jest project');
}

const tier = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  roots: [`<rootDir>/test/${name}`],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  ...extra,
});

// vxvde multicast must never leave the machine: these tiers refuse to start outside the private
// network namespace that scripts/in-private-netns.sh makes (the check runs before the test file loads).
const privateNetns = { setupFilesAfterEnv: ['<rootDir>/test/setup/private-netns.ts'] };

/** @type {import('jest').Config} */
module.exports = {
  // One file at a time per core: the machine is shared and stacks are processes.
  maxWorkers: 2,
  // Stacks are real processes and namespaces: keep runs bounded. (jest reads the timeout from here
  // only: a project's testTimeout is ignored; the unit tier sets its own in its setup file.)
  testTimeout: 30000,
  projects: [
    tier('unit', {
      // The addon is out of reach: node-gyp-build and any .node file resolve to a module that
      // throws and records the attempt, and the setup file fails the test file that made one.
      moduleNameMapper: { '^node-gyp-build$': '<rootDir>/test/setup/no-addon.js', '\\.node$': '<rootDir>/test/setup/no-addon.js' },
      setupFilesAfterEnv: ['<rootDir>/test/setup/unit.ts'],
    }),
    tier('stack'),
    tier('network', privateNetns),
    tier('reliability', { setupFilesAfterEnv: [...privateNetns.setupFilesAfterEnv, '<rootDir>/test/setup/reliability.ts'] }),
  ],
};
