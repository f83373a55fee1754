import { describe, expect, it } from "@jest/globals";
import { computeProgress, worstSyncStatus, type ProgressFacts } from "../../src/metrics/progress.js";

const now = new Date("2026-01-01T12:00:00Z");
const repo = (patch: Partial<ProgressFacts>): ProgressFacts => ({
  syncStatus: "syncing",
  prsDone: 0,
  prsTotal: null,
  syncStartedAt: new Date("2026-01-01T11:50:00Z"),
  pausedUntil: null,
  tracked: true,
  removedAt: null,
  ...patch,
});

describe("computeProgress", () => {
  it.each<[string, Partial<ProgressFacts>, { percent: number | null; etaSeconds: number | null }]>([
    ["nothing known yet", {}, { percent: null, etaSeconds: null }],
    [
      "a quarter done in 10 minutes: 30 minutes left",
      { prsDone: 250, prsTotal: 1000 },
      { percent: 25, etaSeconds: 1800 },
    ],
    [
      "never shows 100% before it is complete",
      { prsDone: 999, prsTotal: 1000 },
      { percent: 99, etaSeconds: 1 },
    ],
    [
      "pull requests of an earlier run do not speed the ETA up",
      // 600 were stored by a 30-day backfill; deepening stored 100 more in these 10 minutes.
      { prsDone: 700, prsTotal: 1000, runPrsStart: 600 },
      { percent: 70, etaSeconds: 1800 },
    ],
    [
      "time paused by the rate limit does not slow the ETA down",
      // 10 minutes since the start, 5 of them paused: 100 in 5 active minutes.
      { prsDone: 100, prsTotal: 400, runPausedSeconds: 300 },
      { percent: 25, etaSeconds: 900 },
    ],
    [
      "complete is 100% with no ETA",
      { syncStatus: "complete", prsDone: 40, prsTotal: 40 },
      { percent: 100, etaSeconds: null },
    ],
    [
      "paused has no ETA",
      { syncStatus: "paused_rate_limited", prsDone: 10, prsTotal: 40 },
      { percent: 25, etaSeconds: null },
    ],
    [
      "an estimate below what is done grows to it",
      { prsDone: 60, prsTotal: 50 },
      { percent: 99, etaSeconds: 0 },
    ],
  ])("%s", (_name, patch, expected) => {
    expect(computeProgress(repo(patch), now)).toMatchObject(expected);
  });
});

describe("worstSyncStatus", () => {
  it.each<[string, Parameters<typeof worstSyncStatus>[0], string]>([
    ["an error beats everything", { complete: 3, syncing: 1, error: 1 }, "error"],
    ["a pause beats syncing", { complete: 1, syncing: 2, paused_rate_limited: 1 }, "paused_rate_limited"],
    ["syncing beats queued", { queued: 4, syncing: 1, pending: 2 }, "syncing"],
    ["zero counts do not count", { error: 0, queued: 1 }, "queued"],
    ["no repositories: complete", {}, "complete"],
  ])("%s", (_name, counts, expected) => {
    expect(worstSyncStatus(counts)).toBe(expected);
  });
});
