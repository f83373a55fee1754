import { beforeEach, describe, expect, it } from "@jest/globals";
import { phaseMeans, sizeDistribution } from "../../src/db/queries/metrics-insight.js";
import { markWeeksPending } from "../../src/db/queries/weekly-metrics.js";
import * as schema from "../../src/db/schema/index.js";
import { Browser } from "../support/browser.js";
import { useTestApp } from "../support/harness.js";
import { signedIn } from "../support/session.js";

// The metrics page's size distribution, phases that add up, repository search and live refresh,
// on real Postgres. The stored pull requests are the input; every expected figure is worked out by
// hand beside them. Weeks are UTC weeks: W2 = 2024-02-19, W3 = 2024-02-26.

const NOW = new Date("2024-03-06T12:00:00Z");
const t = useTestApp(() => ({ queues: [], now: () => NOW }));

const ACME = 101;
const API = 1001;
const WEB = 1002;
const GATEWAY = 1003;
const OLD = 1004; // not tracked
const RANGE = { from: "2024-02-19", to: "2024-02-26", timeZone: "UTC", humansOnly: true };
const CUSTOM = "range=custom&from=2024-02-19&to=2024-02-26";

type NewPullRequest = typeof schema.pullRequests.$inferInsert;
let nextId = 1;

/** A merged pull request with its stored size, cycle time and phases (hours). */
function merged(
  repoId: number,
  mergedAt: string,
  size: number,
  cycle: number,
  phases: [number, number, number] | null,
): NewPullRequest {
  const id = nextId++;
  return {
    installationId: ACME,
    id,
    repoId,
    number: id,
    title: `Change ${id}`,
    state: "merged",
    authorLogin: "octocat",
    authorType: "User",
    headRef: `feature/${id}`,
    baseRef: "main",
    createdAt: new Date(Date.parse(mergedAt) - cycle * 3_600_000),
    updatedAt: new Date(mergedAt),
    mergedAt: new Date(mergedAt),
    closedAt: new Date(mergedAt),
    additions: size,
    deletions: 0,
    cycleTimeHours: cycle,
    codingPhaseHours: phases?.[0] ?? null,
    pickupPhaseHours: phases?.[1] ?? null,
    reviewPhaseHours: phases?.[2] ?? null,
  };
}

/**
 *   W2: XS 5 lines 10 h, phases 2 + 3 + 5; XS 10 lines (the bound) 20 h, phases 1 + 1.5 + 0.25;
 *       S 11 lines 30 h without a coding phase (no commit): not in the phase means.
 *       Phase means: coding 1.5, pickup 2.25, review 2.625 → 2.63; total 6.38.
 *   W3: XXL 1,001 lines 100 h, phases 10 + 20 + 30.01; XL 1,000 lines 40 h, phases 0.01 each.
 *       Means 5.005 → 5.01, 10.005 → 10.01, 15.01; total 30.03 (the mean of the sums is 30.02:
 *       the total is the sum of the means as shown, so the stack reaches it exactly).
 *   Range: 4 pull requests with all three: 13.01/4 → 3.25, 24.51/4 → 6.13, 35.27/4 → 8.82 = 18.20.
 *   Sizes: XS 2 (median of 10 and 20 h: 15 h), S 1 (30 h), M 0, L 0, XL 1 (40 h), XXL 1 (100 h).
 *   Outside: a bot's, an untracked repository's, and one merged before the range.
 */
// The harness empties the database before each test.
beforeEach(async () => {
  const db = t.database.db;
  await db.insert(schema.installations).values({
    id: ACME,
    accountId: 1,
    accountLogin: "acme",
    accountType: "Organization",
  });
  await db.insert(schema.repositories).values([
    { id: API, installationId: ACME, fullName: "acme/api", tracked: true, syncStatus: "complete" },
    { id: WEB, installationId: ACME, fullName: "acme/web", tracked: true, syncStatus: "complete" },
    {
      id: GATEWAY,
      installationId: ACME,
      fullName: "acme/api-gateway",
      tracked: true,
      syncStatus: "complete",
    },
    { id: OLD, installationId: ACME, fullName: "acme/old", tracked: false },
  ]);
  await db
    .insert(schema.pullRequests)
    .values([
      merged(API, "2024-02-20T10:00:00Z", 5, 10, [2, 3, 5]),
      merged(API, "2024-02-21T10:00:00Z", 10, 20, [1, 1.5, 0.25]),
      merged(WEB, "2024-02-22T10:00:00Z", 11, 30, null),
      merged(WEB, "2024-02-27T10:00:00Z", 1001, 100, [10, 20, 30.01]),
      merged(API, "2024-02-28T10:00:00Z", 1000, 40, [0.01, 0.01, 0.01]),
      { ...merged(API, "2024-02-21T10:00:00Z", 3, 1, [0, 0, 1]), authorType: "Bot", authorLogin: "dep[bot]" },
      merged(OLD, "2024-02-21T10:00:00Z", 3, 1, [0, 0, 1]),
      merged(API, "2024-02-18T10:00:00Z", 3, 1, [0, 0, 1]),
    ]);
});

async function admin() {
  const session = await signedIn(t.database, t.app.server, { installationIds: [ACME], authorizedAt: NOW });
  return new Browser(t.app.url, session.cookie);
}

describe("size distribution", () => {
  it("counts the merged pull requests per bucket, with their median cycle time", async () => {
    const sizes = await sizeDistribution(t.database.db, ACME, { ...RANGE, hours: "calendar" });
    expect(sizes.map((b) => [b.label, b.prs, b.medianCycleHours])).toEqual([
      ["XS", 2, 15],
      ["S", 1, 30],
      ["M", 0, null],
      ["L", 0, null],
      ["XL", 1, 40],
      ["XXL", 1, 100],
    ]);
  });

  it("shows the buckets on the page", async () => {
    const page = await (await admin()).get(`/installations/${ACME}/metrics?${CUSTOM}`);
    expect(page.status).toBe(200);
    const rows = [
      ...page.body.matchAll(/<tr data-size="(\w+)">.*?"size-merged">([^<]*)<.*?"size-cycle"[^>]*>([^<]*)</g),
    ];
    expect(rows.map((row) => row.slice(1))).toEqual([
      ["XS", "2", "15 h"],
      ["S", "1", "1.3 d"],
      ["M", "0", "–"],
      ["L", "0", "–"],
      ["XL", "1", "1.7 d"],
      ["XXL", "1", "4.2 d"],
    ]);
    expect(page.body).toContain("up to 10 lines");
    expect(page.body).toContain("11–50 lines");
    expect(page.body).toContain("more than 1,000 lines");
  });
});

describe("phases that add up", () => {
  it("means each phase per week and over the range; the total is their sum", async () => {
    const { weeks, range } = await phaseMeans(t.database.db, ACME, { ...RANGE, hours: "calendar" });
    expect(Object.fromEntries(weeks)).toEqual({
      "2024-02-19": { prs: 2, coding: 1.5, pickup: 2.25, review: 2.63, total: 6.38 },
      "2024-02-26": { prs: 2, coding: 5.01, pickup: 10.01, review: 15.01, total: 30.03 },
    });
    expect(range).toEqual({ prs: 4, coding: 3.25, pickup: 6.13, review: 8.82, total: 18.2 });
  });

  it("draws the stack to its total and prints the sums", async () => {
    const page = await (await admin()).get(`/installations/${ACME}/metrics?${CUSTOM}`);
    expect(page.body).toContain(
      "Week of Feb 19, 2024: coding 1.50 hours + pickup 2.25 hours + review 2.63 hours = 6.38 hours (2 pull requests)",
    );
    expect(page.body).toContain(
      "coding 3.25 hours + pickup 6.13 hours + review 8.82 hours = 18.20 hours (4 pull requests)",
    );
    // Each week's mark is drawn where its stack ends.
    const weeks = [
      ...page.body.matchAll(/<g class="week"><title>Week of [^<]*coding[^<]*<\/title>([\s\S]*?)<\/g>/g),
    ];
    expect(weeks).toHaveLength(2);
    for (const [, shapes] of weeks) {
      const tops = [...shapes!.matchAll(/<rect [^>]*y="([\d.]+)"/g)].map((m) => Number(m[1]));
      const mark = Number(/<line class="series-cycle"[^>]*y1="([\d.]+)"/.exec(shapes!)![1]);
      expect(Math.abs(Math.min(...tops) - mark)).toBeLessThanOrEqual(0.1);
    }
  });
});

describe("in working hours", () => {
  // The working-hours columns here are twice the calendar ones: any difference shows which column
  // a figure was read from, and doubling keeps every stored value exact.
  beforeEach(async () => {
    await t.database.sql`
      update pull_requests set cycle_time_working_hours = cycle_time_hours * 2,
        coding_phase_working_hours = coding_phase_hours * 2,
        pickup_phase_working_hours = pickup_phase_hours * 2,
        review_phase_working_hours = review_phase_hours * 2`;
  });

  it("takes the sizes' median cycle times from the working-hours column", async () => {
    const sizes = await sizeDistribution(t.database.db, ACME, { ...RANGE, hours: "working" });
    expect(sizes.map((b) => [b.label, b.prs, b.medianCycleHours])).toEqual([
      ["XS", 2, 30],
      ["S", 1, 60],
      ["M", 0, null],
      ["L", 0, null],
      ["XL", 1, 80],
      ["XXL", 1, 200],
    ]);
  });

  it("means the working-hours phases, and the total is still their sum", async () => {
    // W2: coding (4 + 2) / 2, pickup (6 + 3) / 2, review (10 + 0.5) / 2. W3: (20 + 0.02) / 2,
    // (40 + 0.02) / 2, (60.02 + 0.02) / 2. Range: 26.02 / 4 → 6.51, 49.02 / 4 → 12.26,
    // 70.54 / 4 → 17.64.
    const { weeks, range } = await phaseMeans(t.database.db, ACME, { ...RANGE, hours: "working" });
    expect(Object.fromEntries(weeks)).toEqual({
      "2024-02-19": { prs: 2, coding: 3, pickup: 4.5, review: 5.25, total: 12.75 },
      "2024-02-26": { prs: 2, coding: 10.01, pickup: 20.01, review: 30.02, total: 60.04 },
    });
    expect(range).toEqual({ prs: 4, coding: 6.51, pickup: 12.26, review: 17.64, total: 36.41 });
  });

  it("prints them when the page is asked for working hours", async () => {
    const page = await (await admin()).get(`/installations/${ACME}/metrics?${CUSTOM}&hours=working`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(
      "coding 6.51 working hours + pickup 12.26 working hours + review 17.64 working hours = 36.41 working hours (4 pull requests)",
    );
  });
});

describe("repository search", () => {
  it("suggests tracked repositories by part of their name, the exact one first", async () => {
    const browser = await admin();
    const found = await browser.get(`/installations/${ACME}/metrics/repositories?repoName=API`);
    expect(found.status).toBe(200);
    expect([...found.body.matchAll(/<option value="([^"]*)">/g)].map((m) => m[1])).toEqual([
      "acme/api",
      "acme/api-gateway",
    ]);
    const exact = await browser.get(`/installations/${ACME}/metrics/repositories?repoName=acme/api-gateway`);
    expect([...exact.body.matchAll(/<option value="([^"]*)">/g)].map((m) => m[1])).toEqual([
      "acme/api-gateway",
    ]);
    const untracked = await browser.get(`/installations/${ACME}/metrics/repositories?repoName=old`);
    expect(untracked.body).not.toContain("<option");
    const wildcard = await browser.get(`/installations/${ACME}/metrics/repositories?repoName=%25`);
    expect(wildcard.body).not.toContain("<option");
    const repeated = await browser.get(`/installations/${ACME}/metrics/repositories?repoName=a&repoName=b`);
    expect(repeated.status).toBe(400);
  });

  it("shows the repository a search names exactly, or the only one it matches, by its id in links", async () => {
    const browser = await admin();
    const exact = await browser.get(`/installations/${ACME}/metrics?${CUSTOM}&repoName=acme%2Fapi`);
    expect(exact.status).toBe(200);
    expect(exact.body).toMatch(/name="repoName" value="acme\/api"/);
    expect(exact.body).toContain(
      `metrics.csv?range=custom&amp;from=2024-02-19&amp;to=2024-02-26&amp;repo=${API}`,
    );
    const only = await browser.get(`/installations/${ACME}/metrics?${CUSTOM}&repoName=WEB`);
    expect(only.status).toBe(200);
    expect(only.body).toMatch(/name="repoName" value="acme\/web"/);
    // The search decides over an id it came with; an empty one means every repository.
    const all = await browser.get(`/installations/${ACME}/metrics?${CUSTOM}&repo=${WEB}&repoName=`);
    expect(all.body).toContain("all tracked repositories");
  });

  it("offers the matches when a search names several, and says when it names none", async () => {
    const browser = await admin();
    const several = await browser.get(`/installations/${ACME}/metrics?${CUSTOM}&repoName=ap`);
    expect(several.status).toBe(400);
    expect(several.body).toContain("2 tracked repositories have “ap” in their name: choose one.");
    expect(several.body).toContain(
      `<a href="/installations/${ACME}/metrics?range=custom&amp;from=2024-02-19&amp;to=2024-02-26&amp;repo=${GATEWAY}">acme/api-gateway</a>`,
    );
    const none = await browser.get(`/installations/${ACME}/metrics?${CUSTOM}&repoName=old`);
    expect(none.status).toBe(400);
    expect(none.body).toContain("No tracked repository of acme has “old” in its name.");
  });
});

describe("live refresh", () => {
  it("polls the report while weeks are recomputed, and stops when nothing changes", async () => {
    const browser = await admin();
    const idle = await browser.get(`/installations/${ACME}/metrics?${CUSTOM}`);
    expect(idle.body).toContain('<div id="metrics-report">');
    await markWeeksPending(t.database.db, ACME, ["2024-02-26"]);
    const live = await browser.get(`/installations/${ACME}/metrics?${CUSTOM}`);
    const poll = `/installations/${ACME}/metrics/live?range=custom&amp;from=2024-02-19&amp;to=2024-02-26`;
    expect(live.body).toContain(`<div id="metrics-report" hx-get="${poll}" hx-trigger="every 5s"`);
    const fragment = await browser.get(poll.replaceAll("&amp;", "&"));
    expect(fragment.status).toBe(200);
    expect(fragment.body.trimStart()).toMatch(/^<div id="metrics-report" hx-get=/);
    expect(fragment.body).not.toContain("<html");
    expect(fragment.body).toContain("Updating as data arrives.");
    await t.database.db.delete(schema.weeklyMetricsPending);
    const after = await browser.get(poll.replaceAll("&amp;", "&"));
    expect(after.body.trimStart()).toMatch(/^<div id="metrics-report">/);
  });

  it("polls while a backfill of the installation runs", async () => {
    const browser = await admin();
    const { eq } = await import("drizzle-orm");
    await t.database.db
      .update(schema.repositories)
      .set({ syncStatus: "syncing" })
      .where(eq(schema.repositories.id, GATEWAY));
    const page = await browser.get(`/installations/${ACME}/metrics?${CUSTOM}`);
    expect(page.body).toContain('<div id="metrics-report" hx-get=');
    await t.database.db
      .update(schema.repositories)
      .set({ syncStatus: "complete" })
      .where(eq(schema.repositories.id, GATEWAY));
  });
});
