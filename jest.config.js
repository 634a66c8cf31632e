/** @type {import('jest').Config} */
module.exports = {
  // Node's environment, sharing typed arrays with the outer realm so onnxruntime-node's tensors pass instanceof checks.
  testEnvironment: '<rootDir>/test/support/jest-environment.js',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)sx?$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  // jose 6, graphql-upload 17 (and fs-capacitor), otplib 13's @scure/@noble, archiver 8 (and zip-stream, compress-commons,
  // crc32-stream, is-stream) ship ESM only; Jest's CommonJS runtime needs them transformed.
  transformIgnorePatterns: [
    '/node_modules/(?!(jose|graphql-upload|fs-capacitor|@scure|@noble|archiver|zip-stream|compress-commons|crc32-stream|is-stream)/)',
  ],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  // A dynamic import() of one of our own modules names the emitted file (`./x.js`, as Node's module resolution
  // requires); in the sources it is `./x.ts`.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['reflect-metadata'],
  testTimeout: 60000,
  maxWorkers: 2,
  // Each test file leaves about 10 MB behind in its worker (what holds it was not found): after 150 files a worker
  // carried 1.8 GB of heap and its garbage collection slowed every later file. A worker past 512 MB after a file
  // is replaced by a fresh one.
  workerIdleMemoryLimit: '512MB',
  testSequencer: '<rootDir>/test/support/sequencer.js',
};
