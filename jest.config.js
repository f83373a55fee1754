/**
 * Jest runs TypeScript as native ESM (ts-jest in ESM mode; `npm test` passes
 * --experimental-vm-modules). Every test file gets its own Postgres database
 * cloned from a migrated template that test/global-setup.js prepares once.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: {
    "^(\\.{1,2}/.*)\\.js$": "$1",
  },
  transform: {
    "^.+\\.ts$": ["ts-jest", { useESM: true, tsconfig: "tsconfig.json" }],
  },
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  // Longest files first, on a clean clone too (the cache jest orders by is not there yet).
  testSequencer: "<rootDir>/test/sequencer.js",
  globalSetup: "<rootDir>/test/global-setup.js",
  globalTeardown: "<rootDir>/test/global-teardown.js",
  // A budget, not a speed check: a file's tests may seed, sync and drain for tens of seconds, and on
  // a loaded runner several times that. Waits inside tests have bounds of their own.
  testTimeout: 90000,
  // Four files at a time on two cores: many tests spend their time waiting (a killed process's
  // heartbeat lapsing, the fake GitHub's modelled latency, a browser), and the extra workers fill
  // those waits. Measured on the 2-core VM from a cold cache, longest files first: 224 s with 3
  // workers, 193 s with 4 (the same 300 s of CPU); 243 s with 4 beside two busy loops, all passing.
  maxWorkers: 4,
};
