import TestSequencer from "@jest/test-sequencer";

/**
 * Seconds each slow file took in a clean run on the 2-core VM (`npm test -- --json --outputFile=…`,
 * three workers). Jest sorts by the durations it cached from an earlier run, longest first, so the
 * workers finish together; a clean clone (CI) has no cache, and jest falls back to file size, which
 * started two of the longest files last (233 s against 216 s for the rest). These stand in for the
 * cache until it exists; they only order the run, and a stale figure costs seconds, never a test.
 */
const SECONDS = {
  "test/e2e/browser.test.ts": 37,
  "test/sync/sync-engine.test.ts": 37,
  "test/faults/kill-app.test.ts": 37,
  "test/sync/clean-outcomes.test.ts": 37,
  "test/faults/replicas.test.ts": 35,
  "test/sync/crash-resume.test.ts": 32,
  "test/bad-input.test.ts": 31,
  "test/sync/nightly-delta.test.ts": 23,
  "test/webhooks/recovery.test.ts": 23,
  "test/refresh.test.ts": 21,
  "test/faults/outage-repair.test.ts": 18,
  "test/faults/postgres-restart.test.ts": 18,
  "test/web/metrics.test.ts": 17,
  "test/e2e/exclusions.test.ts": 16,
  "test/sync/deadlines.test.ts": 16,
  "test/web/operations.test.ts": 14,
  "test/e2e/ghes.test.ts": 13,
  "test/sync/first-window.test.ts": 12,
  "test/sync/members-answers.test.ts": 12,
  "test/events.test.ts": 10,
};

/** Jest's own order, with the figures above where it has no duration of its own. */
export default class SlowFilesFirst extends TestSequencer.default {
  time(test) {
    const cached = super.time(test);
    if (cached != null) return cached;
    const path = test.path.slice(test.context.config.rootDir.length + 1).replaceAll("\\", "/");
    // A file not listed is short: after every listed one, the bigger first (jest's fallback).
    return SECONDS[path] !== undefined
      ? SECONDS[path] * 1000
      : (test.context.hasteFS.getSize(test.path) ?? 0) / 1e6;
  }
}
