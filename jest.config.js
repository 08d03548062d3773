import { existsSync } from 'node:fs';

// Jest 30 in native ESM mode (run with --experimental-vm-modules, see package.json "test").
// @swc/jest needs legacyDecorator + decoratorMetadata, or NestJS injection silently receives undefined.
const swcConfig = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swcConfig] },
  moduleNameMapper: {
    '^@rsp/([a-z0-9-]+)$': '<rootDir>/libs/$1/src/index.ts',
  },
  // Only the rooms that exist yet (jest refuses a missing root; git keeps no empty folder).
  roots: ['libs', 'apps', 'simulator', 'cli', 'test'].filter((dir) => existsSync(dir)).map((dir) => `<rootDir>/${dir}`),
  testMatch: ['**/*.spec.ts', '**/*.test.ts'],
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
