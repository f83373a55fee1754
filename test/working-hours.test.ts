import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { asc, eq } from "drizzle-orm";
import { listWeeklyMetrics } from "../src/db/queries/weekly-metrics.js";
import * as schema from "../src/db/schema/index.js";
import type { WorkingTime } from "../src/metrics/working-hours.js";
import { defaultInstallationSettings } from "../src/settings.js";
import { saveSettings } from "../src/sync/settings.js";
import { APP_ID, QUICK_JOBS } from "./support/app.js";
import { Browser } from "./support/browser.js";
import { buildPullRequestActivity, deliverInstallationCreated } from "./support/delivery-stream.js";
import { startFakeGitHub, type FakeGitHub } from "./support/fake-github/index.js";
import { useTestApp } from "./support/harness.js";
import { csvObjects, table } from "./support/metrics-page.js";
import { signedIn } from "./support/session.js";
import { expectedWorkingHours, median, type ExpectedWorkingHours } from "./support/working-hours.js";

// Working hours on every path a pull request's durations are stored by, against the fake GitHub:
// the backfill (under the default working hours), the recompute after new ones (Berlin, with Good
// Friday and Easter Monday off, across the night the clocks went forward), and the webhooks of a
// pull request opened, reviewed and merged after that. Each time the stored working hours must
// equal those Postgres works out on its own (support/working-hours.ts); then the weekly rows, the
// metrics page in working hours and the CSV must show the medians and values of those.

const NOW = new Date("2024-04-19T12:00:00Z");
const INSTALLATION = 7100;
const BERLIN: WorkingTime = {
  timezone: "Europe/Berlin",
  workDays: [1, 2, 3, 4, 5],
  workStart: "09:00",
  workEnd: "18:00",
  holidays: ["2024-03-29", "2024-04-01"],
};

let github: FakeGitHub;
beforeAll(async () => {
  github = await startFakeGitHub({ seed: 41 });
  github.world.setNow(NOW);
});
// Nothing here looks at a debounced job: the weekly refresh after each step runs at once.
const t = useTestApp(() => ({
  env: { GHE_HOST: github.host, GHE_PROTOCOL: "http", ...QUICK_JOBS },
  now: () => github.world.now(),
}));
afterAll(async () => {
  await github.close();
});

/** The stored working hours, in the oracle's shape. */
async function stored(): Promise<ExpectedWorkingHours[]> {
  const rows = await t.database.db
    .select()
    .from(schema.pullRequests)
    .where(eq(schema.pullRequests.installationId, INSTALLATION))
    .orderBy(asc(schema.pullRequests.id));
  return rows.map((row) => ({
    id: row.id,
    number: row.number,
    cycle: row.cycleTimeWorkingHours,
    reviewTime: row.reviewTimeWorkingHours,
    coding: row.codingPhaseWorkingHours,
    pickup: row.pickupPhaseWorkingHours,
    review: row.reviewPhaseWorkingHours,
  }));
}

const expected = (time: WorkingTime) => expectedWorkingHours(t.database.sql, INSTALLATION, time);

it("stores working hours by backfill, recompute and webhook, and the weekly rows, page and CSV show them", async () => {
  const { repos, members } = github.world.seedOrg({
    login: "acme",
    repos: 1,
    prsPerRepo: 40,
    members: 5,
    reviewsPerPr: [0, 3],
    commitsPerPr: [1, 4],
    spanDays: 28,
    installationId: INSTALLATION,
    appId: Number(APP_ID),
  });

  // 1. The backfill, under the default working hours (Mon–Fri 09:00–18:00 UTC).
  await deliverInstallationCreated(t.app, github.world, INSTALLATION);
  await t.app.drain();
  const backfilled = await stored();
  expect(backfilled.length).toBeGreaterThan(20);
  expect(backfilled.filter((pr) => pr.cycle !== null).length).toBeGreaterThan(5);
  expect(backfilled).toEqual(await expected(defaultInstallationSettings));

  // 2. New working hours: every stored pull request recomputed.
  await saveSettings(t.database, t.app.boss, INSTALLATION, { ...defaultInstallationSettings, ...BERLIN });
  await t.app.drain();
  const recomputed = await stored();
  expect(recomputed).toEqual(await expected(BERLIN));
  expect(recomputed).not.toEqual(backfilled);

  // 3. Webhooks: opened Thursday 2024-03-28 17:00 CET, reviewed Tuesday 2024-04-02 10:00 CEST (after
  // the holidays and the change to summer time), merged that day 11:30: an hour on Thursday, two and
  // a half on Tuesday, nothing in between.
  const author = members[0]!;
  const pr = github.world.createPullRequest(repos[0]!.id, {
    authorId: author.id,
    title: "Across Easter",
    createdAt: "2024-03-28T16:00:00Z",
    updatedAt: "2024-04-02T09:30:00Z",
  });
  github.world.addCommit(pr.id, { authoredDate: "2024-03-28T14:00:00Z" });
  github.world.addReview(pr.id, { authorId: members[1]!.id, submittedAt: "2024-04-02T08:00:00Z" });
  github.world.updatePullRequest(pr.id, {
    state: "MERGED",
    mergedAt: "2024-04-02T09:30:00Z",
    closedAt: "2024-04-02T09:30:00Z",
    updatedAt: "2024-04-02T09:30:00Z",
  });
  for (const hook of buildPullRequestActivity(github.world, [github.world.getPullRequest(pr.id)!])) {
    expect((await t.app.deliver(hook.name, hook.payload, { id: hook.id })).status).toBe(202);
  }
  await t.app.drain();
  const all = await stored();
  expect(all.find((row) => row.id === pr.id)).toEqual({
    id: pr.id,
    number: pr.number,
    cycle: 3.5,
    reviewTime: 2,
    coding: 2,
    pickup: 2,
    review: 1.5,
  });
  const truth = await expected(BERLIN);
  expect(all).toEqual(truth);

  // 4. Every surface, in working hours, over the weeks of 2024-03-25 and 2024-04-01 (Berlin's).
  const session = await signedIn(t.database, t.app.server, {
    installationIds: [INSTALLATION],
    authorizedAt: github.world.now(),
  });
  const browser = new Browser(t.app.url, session.cookie);
  const query = "range=custom&from=2024-03-25&to=2024-04-07&bots=include&hours=working";
  const page = await browser.get(`/installations/${INSTALLATION}/metrics?${query}`);
  expect(page.status).toBe(200);
  expect(page.body).toContain(
    "Working hours: Mon–Fri 09:00–18:00 Europe/Berlin, excluding 2 holidays; a duration counts only the time inside those hours.",
  );
  const csv = csvObjects((await browser.get(`/installations/${INSTALLATION}/metrics.csv?${query}`)).body);
  const byNumber = new Map(truth.map((row) => [row.number, row]));
  const text = (value: number | null) => (value === null ? "" : String(value));
  for (const row of csv) {
    const want = byNumber.get(Number(row.number))!;
    expect([
      row.cycle_time_working_hours,
      row.review_time_working_hours,
      row.coding_phase_working_hours,
      row.pickup_phase_working_hours,
      row.review_phase_working_hours,
    ]).toEqual([want.cycle, want.reviewTime, want.coding, want.pickup, want.review].map(text));
  }
  const mergedIn = (week: string) =>
    csv
      .filter((row) => row.merged_at && berlinWeek(row.merged_at) === week)
      .map((row) => byNumber.get(Number(row.number))!);
  const weekly = await listWeeklyMetrics(t.database.db, INSTALLATION, { until: "2024-04-01", weeks: 2 });
  const { exact } = table(page);
  for (const week of ["2024-03-25", "2024-04-01"]) {
    const merged = mergedIn(week);
    expect(merged.length).toBeGreaterThan(0);
    const cycle = median(merged.map((row) => row.cycle!));
    const review = median(merged.flatMap((row) => (row.review === null ? [] : [row.review])));
    expect(weekly.find((row) => row.weekStart === week)).toMatchObject({
      medianCycleTimeWorkingHours: cycle,
      medianReviewPhaseWorkingHours: review,
    });
    expect(exact[week]?.cycle).toBe(`${cycle!.toFixed(2)} working hours`);
    expect(exact[week]?.review ?? null).toBe(review === null ? null : `${review.toFixed(2)} working hours`);
  }
  const rangeCycle = median([...mergedIn("2024-03-25"), ...mergedIn("2024-04-01")].map((row) => row.cycle!));
  expect(exact.total?.cycle).toBe(`${rangeCycle!.toFixed(2)} working hours`);
});

/** The Monday (YYYY-MM-DD) of an instant's week in Berlin, by Intl, for grouping the CSV's rows. */
function berlinWeek(iso: string): string {
  const local = new Date(new Date(iso).toLocaleString("en-US", { timeZone: "Europe/Berlin" }) + " UTC");
  const fromMonday = (local.getUTCDay() + 6) % 7;
  return new Date(local.getTime() - fromMonday * 86_400_000).toISOString().slice(0, 10);
}
