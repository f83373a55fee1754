import { describe, expect, it } from "@jest/globals";
import { computeProgress, rollUpProgress, type ProgressFacts } from "../../src/metrics/progress.js";

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

describe("rollUpProgress", () => {
  it("sums tracked repositories, shows the worst status and the longest ETA", () => {
    const pausedUntil = new Date("2026-01-01T13:00:00Z");
    const rolled = rollUpProgress(
      [
        repo({ syncStatus: "complete", prsDone: 100, prsTotal: 100 }),
        repo({ prsDone: 50, prsTotal: 200 }),
        repo({ syncStatus: "paused_rate_limited", prsDone: 10, prsTotal: 100, pausedUntil }),
        repo({ tracked: false, syncStatus: "error", prsDone: 5, prsTotal: 5 }),
      ],
      now,
    );
    expect(rolled).toEqual({
      status: "paused_rate_limited",
      done: 160,
      total: 400,
      percent: 40,
      etaSeconds: 1800,
      pausedUntil,
    });
  });

  it("is null without tracked repositories", () => {
    expect(rollUpProgress([repo({ tracked: false })], now)).toBeNull();
  });
});
