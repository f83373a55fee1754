import { describe, expect, it } from "@jest/globals";
import { eq } from "drizzle-orm";
import { LOCK_NAMESPACE } from "../../src/db/client.js";
import { updateInstallation } from "../../src/db/queries/installations.js";
import {
  listDerivationInputs,
  updateDerivedColumns,
  upsertPullRequests,
} from "../../src/db/queries/pull-requests.js";
import { refreshWeeklyMetrics } from "../../src/db/queries/weekly-metrics.js";
import * as schema from "../../src/db/schema/index.js";
import { defaultInstallationSettings } from "../../src/settings.js";
import { queueMissingWorkingHours, recomputeInstallation } from "../../src/sync/recompute.js";
import { useTestApp } from "../support/harness.js";
import { waitFor } from "../support/wait.js";

// The recompute after new settings (sync/recompute.ts) on real Postgres and pg-boss: the weekly
// job runs, nothing reaches GitHub.

const t = useTestApp({ queues: ["refreshWeeklyMetrics"] });

const INSTALLATION = 4100;
const REPO = 41_001;

/** Merged late on Sunday in UTC: Monday morning in Tokyo, a week later on that calendar. */
const SUNDAY_NIGHT = {
  installationId: INSTALLATION,
  id: 1,
  repoId: REPO,
  number: 1,
  title: "Speed up the search",
  state: "merged" as const,
  headRef: "feature/search",
  baseRef: "main",
  createdAt: new Date("2024-03-10T23:30:00Z"),
  updatedAt: new Date("2024-03-10T23:45:00Z"),
  mergedAt: new Date("2024-03-10T23:45:00Z"),
  closedAt: new Date("2024-03-10T23:45:00Z"),
};

async function seed(): Promise<void> {
  await t.database.db
    .insert(schema.installations)
    .values({ id: INSTALLATION, accountId: 1, accountLogin: "acme", accountType: "Organization" });
  await t.database.db
    .insert(schema.repositories)
    .values({ id: REPO, installationId: INSTALLATION, fullName: "acme/api", tracked: true });
  await t.database.db.insert(schema.pullRequests).values(SUNDAY_NIGHT);
  // Its weeks as the weekly job left them under UTC.
  await refreshWeeklyMetrics(t.database.db, INSTALLATION, ["2024-03-04"], "UTC");
}

async function stored() {
  const [pr] = await t.database.db
    .select()
    .from(schema.pullRequests)
    .where(eq(schema.pullRequests.id, SUNDAY_NIGHT.id));
  const weeks = await t.database.db
    .select({ weekStart: schema.weeklyMetrics.weekStart, merged: schema.weeklyMetrics.prsMerged })
    .from(schema.weeklyMetrics)
    .where(eq(schema.weeklyMetrics.repoId, REPO));
  return { pr: pr!, weeks: [...new Set(weeks.map((week) => `${week.weekStart}: ${week.merged}`))] };
}

const settle = () => t.app.drain(["weekly-metrics"]);

describe("recomputeInstallation", () => {
  it("after a new timezone, moves the figures to the new weeks and empties the weeks they left", async () => {
    await seed();
    expect((await stored()).weeks).toEqual(["2024-03-04: 1"]);
    await updateInstallation(t.database.db, INSTALLATION, {
      settings: { ...defaultInstallationSettings, timezone: "Asia/Tokyo" },
    });

    const result = await recomputeInstallation(t.database, t.app.boss, INSTALLATION);
    await settle();

    expect(result).toMatchObject({ pullRequests: 1, changed: 1, weeks: 2 });
    const after = await stored();
    // 15 minutes from creation to merge, now stored; counted in Tokyo's week only.
    expect(after.pr.cycleTimeHours).toBe(0.25);
    expect(after.weeks).toEqual(["2024-03-11: 1"]);
  });

  it("waits for the recompute before it and reads the settings when its turn comes", async () => {
    await seed();
    // A recompute of the installation is running: it holds the installation's turn.
    const running = await t.database.sql.reserve();
    await running`select pg_advisory_lock(${LOCK_NAMESPACE.recompute}::int, hashtext(${String(INSTALLATION)}))`;
    const next = recomputeInstallation(t.database, t.app.boss, INSTALLATION);
    await waitFor(
      async () => {
        const [row] = await t.database.sql<{ waiting: number }[]>`
          select count(*)::int as waiting from pg_locks where locktype = 'advisory' and not granted`;
        return row!.waiting === 1;
      },
      { what: "the next recompute to wait for its turn" },
    );
    // Saved while it waited: the running one had read the settings before.
    await updateInstallation(t.database.db, INSTALLATION, {
      settings: { ...defaultInstallationSettings, hotfixBranchPattern: "^feature/" },
    });
    await running`select pg_advisory_unlock(${LOCK_NAMESPACE.recompute}::int, hashtext(${String(INSTALLATION)}))`;
    running.release();

    await next;
    expect((await stored()).pr.isHotfix).toBe(true);
  });
});

describe("queueMissingWorkingHours", () => {
  it("queues a recompute for an installation whose durations lack working hours, which fills them", async () => {
    await seed();
    // As a version before working hours left it: calendar hours stored, working hours not.
    await t.database.db
      .update(schema.pullRequests)
      .set({ cycleTimeHours: 0.25 })
      .where(eq(schema.pullRequests.id, SUNDAY_NIGHT.id));
    // Another installation whose rows are complete gets nothing.
    await t.database.db
      .insert(schema.installations)
      .values({ id: INSTALLATION + 1, accountId: 2, accountLogin: "globex", accountType: "Organization" });
    await t.database.db.insert(schema.pullRequests).values({
      ...SUNDAY_NIGHT,
      installationId: INSTALLATION + 1,
      cycleTimeHours: 0.25,
      cycleTimeWorkingHours: 0,
    });

    expect(await queueMissingWorkingHours(t.database, t.app.boss)).toBe(1);
    const jobs = await t.app.jobs("recompute-pull-requests");
    expect(jobs.map((job) => job.data)).toEqual([{ installationId: INSTALLATION }]);

    await recomputeInstallation(t.database, t.app.boss, INSTALLATION);
    // Sunday night in UTC: no working time at all.
    expect((await stored()).pr).toMatchObject({ cycleTimeHours: 0.25, cycleTimeWorkingHours: 0 });
    expect(await queueMissingWorkingHours(t.database, t.app.boss)).toBe(0);
  });
});

describe("updateDerivedColumns", () => {
  it("leaves a pull request written since its inputs were read as its writer left it", async () => {
    await seed();
    const [read] = await listDerivationInputs(t.database.db, INSTALLATION, 0, 10);
    // A webhook writes the pull request meanwhile (and computes its values itself).
    await upsertPullRequests(t.database.db, [{ ...SUNDAY_NIGHT, title: "Hotfix: speed up the search" }]);

    await updateDerivedColumns(t.database.db, INSTALLATION, [
      { id: read!.id, writtenAt: read!.writtenAt, values: { isHotfix: true, cycleTimeHours: 99 } },
    ]);

    expect((await stored()).pr).toMatchObject({ isHotfix: false, cycleTimeHours: null });
    // Read again, the write goes through.
    const [again] = await listDerivationInputs(t.database.db, INSTALLATION, 0, 10);
    await updateDerivedColumns(t.database.db, INSTALLATION, [
      { id: again!.id, writtenAt: again!.writtenAt, values: { isHotfix: true, cycleTimeHours: 0.25 } },
    ]);
    expect((await stored()).pr).toMatchObject({ isHotfix: true, cycleTimeHours: 0.25 });
  });
});
