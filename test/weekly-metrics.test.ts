import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { and, asc, eq } from "drizzle-orm";
import { pino } from "pino";
import {
  clearPendingWeeks,
  listPendingWeeks,
  listWeeklyMetrics,
  markWeeksPending,
  refreshWeeklyMetrics,
} from "../src/db/queries/weekly-metrics.js";
import * as schema from "../src/db/schema/index.js";
import { createDatabase } from "../src/db/client.js";
import type { JobContext, JobDeps } from "../src/jobs/handlers/deps.js";
import { refreshWeeklyMetricsJob } from "../src/jobs/handlers/refresh-weekly-metrics.js";
import { affectedWeeks, weekStartOf } from "../src/metrics/weeks.js";
import { defaultInstallationSettings } from "../src/settings.js";
import { createTestDatabase, type TestDatabase } from "./support/database.js";
import { waitFor } from "./support/wait.js";

// Weekly aggregates against real Postgres: fixtures are plain rows, expected values are worked out
// by hand beside each test. Weeks (UTC unless said otherwise): W1 = 2024-01-08, W2 = 2024-01-15,
// W3 = 2024-01-22.

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

const W1 = "2024-01-08";
const W2 = "2024-01-15";
const W3 = "2024-01-22";
const ALL_WEEKS = [W1, W2, W3];

const REPO_A = 100;
const REPO_B = 200;
const UNTRACKED = 300;

type NewPullRequest = typeof schema.pullRequests.$inferInsert;

let nextId = 1;
const base = (repoId: number, createdAt: string, patch: Partial<NewPullRequest>): NewPullRequest => {
  const id = nextId++;
  return {
    installationId: 1,
    id,
    repoId,
    number: id,
    title: `Change ${id}`,
    state: "open",
    headRef: `feature/${id}`,
    baseRef: "main",
    createdAt: new Date(createdAt),
    updatedAt: new Date(createdAt),
    ...patch,
  };
};
const opened = (repoId: number, createdAt: string, patch: Partial<NewPullRequest> = {}) =>
  base(repoId, createdAt, patch);
const merged = (
  repoId: number,
  createdAt: string,
  mergedAt: string,
  cycleTimeHours: number,
  patch: Partial<NewPullRequest> = {},
) =>
  base(repoId, createdAt, {
    state: "merged",
    mergedAt: new Date(mergedAt),
    closedAt: new Date(mergedAt),
    cycleTimeHours,
    ...patch,
  });
const closed = (repoId: number, createdAt: string, closedAt: string, patch: Partial<NewPullRequest> = {}) =>
  base(repoId, createdAt, { state: "closed", closedAt: new Date(closedAt), ...patch });
const reviewed = (at: string, reviewTimeHours: number): Partial<NewPullRequest> => ({
  firstReviewAt: new Date(at),
  reviewTimeHours,
});

async function seed(): Promise<void> {
  await database.db.insert(schema.installations).values([
    { id: 1, accountId: 1, accountLogin: "acme", accountType: "Organization" },
    {
      id: 2,
      accountId: 2,
      accountLogin: "kiwi",
      accountType: "Organization",
      settings: { ...defaultInstallationSettings, timezone: "Pacific/Auckland" },
    },
  ]);
  await database.db.insert(schema.repositories).values([
    { id: REPO_A, installationId: 1, fullName: "acme/a", tracked: true },
    { id: REPO_B, installationId: 1, fullName: "acme/b", tracked: true },
    { id: UNTRACKED, installationId: 1, fullName: "acme/old", tracked: false },
    { id: 400, installationId: 2, fullName: "kiwi/app", tracked: true },
  ]);
  await database.db.insert(schema.pullRequests).values([
    // Repository A
    merged(REPO_A, "2024-01-08T10:00:00Z", "2024-01-10T10:00:00Z", 48, {
      ...reviewed("2024-01-08T12:00:00Z", 2),
      additions: 10,
      deletions: 5,
    }),
    merged(REPO_A, "2024-01-09T10:00:00Z", "2024-01-16T10:00:00Z", 10, {
      ...reviewed("2024-01-09T14:00:00Z", 4),
      isRevert: true,
      additions: 100,
      deletions: null,
    }),
    closed(REPO_A, "2024-01-11T10:00:00Z", "2024-01-17T10:00:00Z"),
    opened(REPO_A, "2024-01-15T10:00:00Z", reviewed("2024-01-15T16:00:00Z", 6)),
    merged(REPO_A, "2024-01-12T10:00:00Z", "2024-01-18T10:00:00Z", 20, {
      isHotfix: true,
      additions: 1,
      deletions: 2,
    }),
    merged(REPO_A, "2024-01-17T10:00:00Z", "2024-01-18T16:00:00Z", 30, { additions: null, deletions: 7 }),
    // Repository B
    merged(REPO_B, "2024-01-12T10:00:00Z", "2024-01-19T10:00:00Z", 40, {
      ...reviewed("2024-01-15T09:00:00Z", 1),
      additions: 3,
      deletions: 3,
    }),
    closed(REPO_B, "2024-01-16T10:00:00Z", "2024-01-16T11:00:00Z"),
    merged(REPO_B, "2024-01-13T10:00:00Z", "2024-01-13T12:00:00Z", 2),
    merged(REPO_B, "2024-01-22T10:00:00Z", "2024-01-22T10:00:00Z", 0),
    merged(REPO_B, "2024-01-23T10:00:00Z", "2024-01-23T10:00:00Z", 0),
    merged(REPO_B, "2024-01-24T10:00:00Z", "2024-01-24T11:00:00Z", 1),
    merged(REPO_B, "2024-01-25T10:00:00Z", "2024-01-25T11:07:48Z", 1.13),
    // An untracked repository: big numbers that would show in any total they leaked into.
    merged(UNTRACKED, "2024-01-08T10:00:00Z", "2024-01-16T10:00:00Z", 1000, {
      ...reviewed("2024-01-16T09:00:00Z", 500),
      isRevert: true,
      isHotfix: true,
      additions: 9999,
      deletions: 9999,
    }),
    closed(UNTRACKED, "2024-01-22T10:00:00Z", "2024-01-23T10:00:00Z"),
    // Installation 2 (Auckland, UTC+13 in January): Sunday 20:00 UTC is Monday 09:00 there.
    merged(400, "2024-01-14T20:00:00Z", "2024-01-14T21:00:00Z", 1, { installationId: 2 }),
  ]);
}

/** The rows over every pull request (humans_only false); the fixtures' authors are people. */
async function rows(installationId = 1) {
  return database.db
    .select()
    .from(schema.weeklyMetrics)
    .where(
      and(
        eq(schema.weeklyMetrics.installationId, installationId),
        eq(schema.weeklyMetrics.humansOnly, false),
      ),
    )
    .orderBy(asc(schema.weeklyMetrics.weekStart), asc(schema.weeklyMetrics.repoId));
}

async function row(repoId: number, weekStart: string) {
  const [found] = await database.db
    .select()
    .from(schema.weeklyMetrics)
    .where(
      and(
        eq(schema.weeklyMetrics.installationId, 1),
        eq(schema.weeklyMetrics.repoId, repoId),
        eq(schema.weeklyMetrics.weekStart, weekStart),
        eq(schema.weeklyMetrics.humansOnly, false),
      ),
    );
  return found;
}

const withoutTimestamp = ({ refreshedAt: _refreshedAt, ...rest }: schema.WeeklyMetricsRow) => rest;

beforeEach(async () => {
  await database.truncate();
  await seed();
  await refreshWeeklyMetrics(database.db, 1, ALL_WEEKS, "UTC");
});

describe("refreshWeeklyMetrics", () => {
  it("writes one row per repository with activity and one roll-up per week", async () => {
    const keys = (await rows()).map((r) => `${r.weekStart}/${r.repoId}`);
    expect(keys).toEqual([
      `${W1}/0`,
      `${W1}/${REPO_A}`,
      `${W1}/${REPO_B}`,
      `${W2}/0`,
      `${W2}/${REPO_A}`,
      `${W2}/${REPO_B}`,
      `${W3}/0`,
      `${W3}/${REPO_B}`,
    ]);
  });

  it("computes a repository's week by hand", async () => {
    // Repository A in W2: opened #4 and #6; merged #2, #5, #6 (cycle 10, 20, 30 h → median 20,
    // p75 = 20 + 0.5 × 10 = 25); closed unmerged #3; first reviewed #4 (6 h). #2 is the revert and
    // #5 the hotfix, both created in W1 but counted where they merged. Additions 100 + 1 + null,
    // deletions null + 2 + 7.
    expect(await row(REPO_A, W2)).toMatchObject({
      prsOpened: 2,
      prsMerged: 3,
      prsClosed: 1,
      medianCycleTimeHours: 20,
      p75CycleTimeHours: 25,
      medianReviewTimeHours: 6,
      reverts: 1,
      hotfixes: 1,
      additions: 101,
      deletions: 9,
    });
    // Repository A in W1: opened #1, #2, #3, #5; merged only #1 (48 h); #1 and #2 first reviewed
    // (2 h, 4 h → median 3). The revert and the hotfix had not shipped yet.
    expect(await row(REPO_A, W1)).toMatchObject({
      prsOpened: 4,
      prsMerged: 1,
      prsClosed: 0,
      medianCycleTimeHours: 48,
      p75CycleTimeHours: 48,
      medianReviewTimeHours: 3,
      reverts: 0,
      hotfixes: 0,
      additions: 10,
      deletions: 5,
    });
  });

  it("leaves the medians empty for a week with nothing merged or reviewed", async () => {
    // Repository B in W1: #7 opened and #9 merged (2 h, no sizes recorded → zeros).
    expect(await row(REPO_B, W1)).toMatchObject({
      prsOpened: 2,
      prsMerged: 1,
      medianCycleTimeHours: 2,
      medianReviewTimeHours: null,
      additions: 0,
      deletions: 0,
    });
  });

  it("interpolates percentiles and rounds them to two decimals", async () => {
    // Cycle times 0, 0, 1, 1.13: median = (0 + 1) / 2 = 0.5; p75 sits at position 2.25 →
    // 1 + 0.25 × 0.13 = 1.0325 → 1.03.
    expect(await row(REPO_B, W3)).toMatchObject({
      prsMerged: 4,
      medianCycleTimeHours: 0.5,
      p75CycleTimeHours: 1.03,
    });
  });

  it("rolls every tracked repository up into repo 0, with percentiles over all their pull requests", async () => {
    // W2 cycle times: A 10, 20, 30 and B 40 → median 25, p75 at 2.25 → 30 + 0.25 × 10 = 32.5.
    // Review times: A 6, B 1 → 3.5. The untracked repository's 1000 h, 500 h, revert, hotfix and
    // 9999 lines appear nowhere.
    expect(await row(0, W2)).toMatchObject({
      prsOpened: 3,
      prsMerged: 4,
      prsClosed: 2,
      medianCycleTimeHours: 25,
      p75CycleTimeHours: 32.5,
      medianReviewTimeHours: 3.5,
      reverts: 1,
      hotfixes: 1,
      additions: 104,
      deletions: 12,
    });
    // W1 cycle times: A 48, B 2 → median 25, p75 = 2 + 0.75 × 46 = 36.5.
    expect(await row(0, W1)).toMatchObject({ medianCycleTimeHours: 25, p75CycleTimeHours: 36.5 });

    const all = await rows();
    const counted = [
      "prsOpened",
      "prsMerged",
      "prsClosed",
      "reverts",
      "hotfixes",
      "additions",
      "deletions",
    ] as const;
    for (const week of ALL_WEEKS) {
      const rollUp = all.find((r) => r.weekStart === week && r.repoId === 0)!;
      const repos = all.filter((r) => r.weekStart === week && r.repoId !== 0);
      for (const column of counted) {
        expect([week, column, rollUp[column]]).toEqual([
          week,
          column,
          repos.reduce((sum, r) => sum + r[column], 0),
        ]);
      }
    }
  });

  it("leaves untracked repositories out entirely", async () => {
    expect((await rows()).filter((r) => r.repoId === UNTRACKED)).toEqual([]);
    // W3's roll-up has no closed pull request: the only one was in the untracked repository.
    expect(await row(0, W3)).toMatchObject({ prsOpened: 4, prsClosed: 0 });
  });

  it("drops a repository from the weeks refreshed after it was untracked", async () => {
    await database.db
      .update(schema.repositories)
      .set({ tracked: false })
      .where(eq(schema.repositories.id, REPO_B));
    await refreshWeeklyMetrics(database.db, 1, [W2], "UTC");
    expect(await row(REPO_B, W2)).toBeUndefined();
    const repoA = await row(REPO_A, W2);
    expect(withoutTimestamp((await row(0, W2))!)).toEqual({ ...withoutTimestamp(repoA!), repoId: 0 });
  });

  it("removes the rows of a week that no longer has any activity", async () => {
    // Repository B's pull requests are gone (W3 had no others): the week has no activity left.
    await database.db.delete(schema.pullRequests).where(eq(schema.pullRequests.repoId, REPO_B));
    await refreshWeeklyMetrics(database.db, 1, [W3], "UTC");
    expect((await rows()).filter((r) => r.weekStart === W3)).toEqual([]);
    // Weeks not asked for are left as they were, even though they are stale now.
    expect(await row(REPO_B, W2)).toBeDefined();
  });

  it("gives the same rows when run again", async () => {
    const first = (await rows()).map(withoutTimestamp);
    await refreshWeeklyMetrics(database.db, 1, [...ALL_WEEKS].reverse(), "UTC");
    await refreshWeeklyMetrics(database.db, 1, [W2, W2], "UTC");
    expect((await rows()).map(withoutTimestamp)).toEqual(first);
  });

  it("works inside a transaction and leaves nothing behind when it rolls back", async () => {
    await database.db.delete(schema.weeklyMetrics);
    await expect(
      database.db.transaction(async (tx) => {
        await refreshWeeklyMetrics(tx, 1, ALL_WEEKS, "UTC");
        // 8 rows over every pull request, and as many without bots' (the fixtures' authors are people).
        expect(await tx.select().from(schema.weeklyMetrics)).toHaveLength(16);
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await rows()).toEqual([]);
  });

  it("lets a refresh of the same weeks wait for one in progress, then replace its rows", async () => {
    const first = (await rows()).map(withoutTimestamp);
    let second: Promise<void> | undefined;
    await database.db.transaction(async (tx) => {
      await refreshWeeklyMetrics(tx, 1, ALL_WEEKS, "UTC");
      // Another refresh starts before this one commits.
      second = refreshWeeklyMetrics(database.db, 1, ALL_WEEKS, "UTC");
      await waitFor(
        async () => {
          const [row] = await database.sql<{ waiting: number }[]>`
            select count(*)::int as waiting from pg_locks where not granted`;
          return row!.waiting > 0;
        },
        { what: "the second refresh to wait" },
      );
    });
    await second;
    expect((await rows()).map(withoutTimestamp)).toEqual(first);
  });

  it("rejects a week start that is not a date", async () => {
    await expect(refreshWeeklyMetrics(database.db, 1, ["2024-W03"], "UTC")).rejects.toThrow(TypeError);
  });
});

describe("pending weeks", () => {
  it("a week marked again after a refresh listed it stays pending", async () => {
    await markWeeksPending(database.db, 7, [W1, W2]);
    const listed = await listPendingWeeks(database.db, 7);
    // A change commits while the refresh runs: it marks W2 again.
    await markWeeksPending(database.db, 7, [W2]);
    await clearPendingWeeks(database.db, 7, listed);
    expect((await listPendingWeeks(database.db, 7)).map((week) => week.weekStart)).toEqual([W2]);
  });

  it("marks a week another transaction marked and has not committed, without waiting for it", async () => {
    // Webhook batches and backfill pages of one installation mark the same weeks all the time.
    await database.db.transaction(async (tx) => {
      await markWeeksPending(tx, 8, [W1]);
      // Another writer, on a connection of its own that gives up after 2 s of waiting for a lock.
      const other = createDatabase(database.url, { max: 1 });
      try {
        await other.sql`set lock_timeout = '2s'`;
        await markWeeksPending(other.db, 8, [W1, W2]);
      } finally {
        await other.close();
      }
    });
    const pending = await listPendingWeeks(database.db, 8);
    expect(pending.map((week) => [week.weekStart, week.marks.length])).toEqual([
      [W1, 2],
      [W2, 1],
    ]);
    await clearPendingWeeks(database.db, 8, pending);
    expect(await listPendingWeeks(database.db, 8)).toEqual([]);
  });
});

describe("timezones", () => {
  const log = pino({ level: "silent" });
  const context: JobContext = {
    jobId: "job",
    log,
    finalAttempt: false,
    signal: new AbortController().signal,
  };
  // The job needs only the database and a logger; nothing here reaches GitHub.
  const job = () => refreshWeeklyMetricsJob({ database, log } as unknown as JobDeps);

  it("counts a pull request in the week of the installation's zone", async () => {
    // The job reads Pacific/Auckland from the installation's settings: Monday 2024-01-15 there.
    await markWeeksPending(database.db, 2, [W1, W2]);
    await job()({ installationId: 2 }, context);
    expect(await database.sql`select * from weekly_metrics_pending`).toEqual([]);
    expect((await rows(2)).map((r) => [r.weekStart, r.repoId, r.prsOpened, r.prsMerged])).toEqual([
      [W2, 0, 1, 1],
      [W2, 400, 1, 1],
    ]);
  });

  it("moves the pull request back a week when the same instant is read in UTC", async () => {
    await refreshWeeklyMetrics(database.db, 2, [W1, W2], "UTC");
    expect((await rows(2)).map((r) => [r.weekStart, r.repoId])).toEqual([
      [W1, 0],
      [W1, 400],
    ]);
  });

  it.each(["America/New_York", "Europe/Berlin", "Pacific/Auckland", "Asia/Kathmandu"])(
    "agrees with weekStartOf around the midnights and DST switches of %s",
    async (timeZone) => {
      const instants = [
        "2024-03-10T04:59:00Z",
        "2024-03-10T05:00:00Z",
        "2024-03-11T03:59:00Z",
        "2024-03-11T04:00:00Z",
        "2024-03-31T21:59:00Z",
        "2024-03-31T22:00:00Z",
        "2024-04-07T11:59:00Z",
        "2024-04-07T12:00:00Z",
        "2024-09-29T10:59:00Z",
        "2024-09-29T11:00:00Z",
        "2024-11-04T04:59:00Z",
        "2024-11-04T05:00:00Z",
        "2024-04-07T18:14:00Z",
        "2024-04-07T18:15:00Z",
      ].map((iso) => new Date(iso));
      await database.db
        .insert(schema.repositories)
        .values({ id: 500, installationId: 2, fullName: "kiwi/dst", tracked: true });
      await database.db
        .insert(schema.pullRequests)
        .values(instants.map((at) => opened(500, at.toISOString(), { installationId: 2 })));
      const expected = new Map<string, number>();
      for (const at of instants) {
        const week = weekStartOf(at, timeZone);
        expected.set(week, (expected.get(week) ?? 0) + 1);
      }
      const weeks = affectedWeeks(
        instants.map((createdAt) => ({ createdAt, mergedAt: null, closedAt: null })),
        timeZone,
      );
      await refreshWeeklyMetrics(database.db, 2, weeks, timeZone);
      const stored = (await rows(2)).filter((r) => r.repoId === 500);
      expect(new Map(stored.map((r) => [r.weekStart, r.prsOpened]))).toEqual(expected);
    },
  );

  it("skips an installation it does not know", async () => {
    await markWeeksPending(database.db, 999, [W1]);
    await expect(job()({ installationId: 999 }, context)).resolves.toBeUndefined();
    expect(await rows(999)).toEqual([]);
  });
});

describe("listWeeklyMetrics", () => {
  it("returns the roll-up by default, oldest week first", async () => {
    expect((await listWeeklyMetrics(database.db, 1)).map((r) => [r.weekStart, r.repoId])).toEqual([
      [W1, 0],
      [W2, 0],
      [W3, 0],
    ]);
  });

  it("returns the most recent weeks of one repository", async () => {
    const found = await listWeeklyMetrics(database.db, 1, { repoId: REPO_B, weeks: 2 });
    expect(found.map((r) => r.weekStart)).toEqual([W2, W3]);
    expect(found[1]).toMatchObject({ medianCycleTimeHours: 0.5, p75CycleTimeHours: 1.03 });
  });

  it("windows calendar weeks ending at `until`, not stored rows", async () => {
    const weeks = async (until: string, count: number) =>
      (await listWeeklyMetrics(database.db, 1, { until, weeks: count })).map((r) => r.weekStart);
    expect(await weeks(W2, 1)).toEqual([W2]);
    expect(await weeks(W2, 2)).toEqual([W1, W2]);
    // Four quiet weeks later, a two-week window holds nothing.
    expect(await weeks("2024-02-19", 2)).toEqual([]);
  });
});
