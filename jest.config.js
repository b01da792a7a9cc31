/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Stacks are real processes and namespaces: keep runs bounded and one file at a time per core.
  testTimeout: 30000,
  maxWorkers: 2,
};
