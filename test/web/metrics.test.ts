import { describe, expect, it } from "@jest/globals";
import { inArray } from "drizzle-orm";
import {
  clearPendingWeeks,
  listPendingWeeks,
  markWeeksPending,
  refreshWeeklyMetrics,
} from "../../src/db/queries/weekly-metrics.js";
import * as schema from "../../src/db/schema/index.js";
import { affectedWeeks } from "../../src/metrics/weeks.js";
import { defaultInstallationSettings } from "../../src/settings.js";
import { Browser } from "../support/browser.js";
import { csvObjects, table } from "../support/metrics-page.js";
import { waitFor } from "../support/wait.js";
import { useTestApp } from "../support/harness.js";
import { signedIn } from "../support/session.js";

// The metrics page and its CSV on real Postgres. The stored pull requests below are the input;
// every expected figure is worked out by hand beside them, then the weeks are refreshed by the
// same refreshWeeklyMetrics the jobs run, and the page must show those figures.
//
// The clock stands at Wednesday 2024-03-06 12:00 UTC; the installation's weeks are UTC weeks:
//   W1 = 2024-02-12 (no activity)   W2 = 2024-02-19   W3 = 2024-02-26   W4 = 2024-03-04 (this week)

const NOW = new Date("2024-03-06T12:00:00Z");
const t = useTestApp(() => ({ queues: [], now: () => NOW }));

const ACME = 101;
const GLOBEX = 202;
const API = 1001;
const WEB = 1002;
const OLD = 1003; // acme's, not tracked
const MARKUP = 1004; // acme's, tracked, with markup in its name
const SECRET = 2001; // globex's
const MARKUP_NAME = "acme/<script>alert(1)</script>";

type NewPullRequest = typeof schema.pullRequests.$inferInsert;

const hours = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 3_600_000;
let nextId = 1;

/**
 * A stored pull request as the sync leaves it: the dates, and the derived columns computed from
 * them the way src/metrics/pull-request.ts does (worked out here by hand from the same rule).
 */
function pullRequest(
  repoId: number,
  dates: {
    created: string;
    commit?: string;
    ready?: string;
    review?: string;
    merged?: string;
    closed?: string;
  },
  patch: Partial<NewPullRequest> = {},
): NewPullRequest {
  const id = nextId++;
  const ready = dates.ready ?? dates.created;
  return {
    installationId: repoId === SECRET ? GLOBEX : ACME,
    id,
    repoId,
    number: id,
    title: `Change ${id}`,
    state: dates.merged ? "merged" : dates.closed ? "closed" : "open",
    authorLogin: "octocat",
    authorType: "User",
    headRef: `feature/${id}`,
    baseRef: "main",
    createdAt: new Date(dates.created),
    updatedAt: new Date(dates.merged ?? dates.closed ?? dates.created),
    mergedAt: dates.merged ? new Date(dates.merged) : null,
    closedAt: dates.merged || dates.closed ? new Date((dates.merged ?? dates.closed)!) : null,
    readyForReviewAt: dates.ready ? new Date(dates.ready) : null,
    firstCommitAt: dates.commit ? new Date(dates.commit) : null,
    firstReviewAt: dates.review ? new Date(dates.review) : null,
    cycleTimeHours: dates.merged ? hours(dates.created, dates.merged) : null,
    reviewTimeHours: dates.review ? hours(dates.created, dates.review) : null,
    codingPhaseHours: dates.commit ? hours(dates.commit, ready) : null,
    pickupPhaseHours: dates.review ? hours(ready, dates.review) : null,
    reviewPhaseHours: dates.review && dates.merged ? hours(dates.review, dates.merged) : null,
    ...patch,
  };
}

const FORMULA_TITLE = '=HYPERLINK("http://evil.example","click")';
const RAGGED_TITLE = 'Fix, "quoted"\nsecond line';
const REVERT_TITLE = 'Revert "Add <b>bold</b> thing"';

/**
 * Humans only, all tracked repositories:
 *   W2: opened 4 (a1, a2, b1, open1), merged 3: cycle 24, 60, 48 h → median 48 h "2 d",
 *       p75 54 h "2.3 d"; first reviewed 6, 24, 14 h → median 14 h; coding 24, 2, 36 → 24 h "1 d";
 *       pickup 6, 24, 2 → 6 h; review 18, 60, 34 → 34 h "1.4 d"; size 120, 40, 300 → 120; 1 revert.
 *       With the bot: opened 5, merged 4, cycle 1, 24, 48, 60 → median 36 h "1.5 d", size → 80.
 *   W3: opened 4 (a3, ragged, ghost, rollback), merged 3: cycle 48, 60, 5 → median 48 h "2 d";
 *       1 hotfix; 0 reverts, 1 incl. the pattern (rollback). The untracked repository's and
 *       globex's pull requests never count.
 *   W1..W3: opened 8, merged 6, cycle 5, 24, 48, 48, 60, 60 → median 48 h, p75 57 h "2.4 d";
 *       first reviewed in range 6, 14, 24, 24 → median 19 h.
 */
async function seed(options: { revertPattern?: string } = {}) {
  const db = t.database.db;
  await db.insert(schema.installations).values([
    {
      id: ACME,
      accountId: 1,
      accountLogin: "acme",
      accountType: "Organization",
      settings: { ...defaultInstallationSettings, revertTitlePattern: options.revertPattern ?? "" },
    },
    { id: GLOBEX, accountId: 2, accountLogin: "globex", accountType: "Organization" },
  ]);
  await db.insert(schema.repositories).values([
    { id: API, installationId: ACME, fullName: "acme/api", tracked: true },
    { id: WEB, installationId: ACME, fullName: "acme/web", tracked: true },
    { id: OLD, installationId: ACME, fullName: "acme/old", tracked: false },
    { id: MARKUP, installationId: ACME, fullName: MARKUP_NAME, tracked: true },
    { id: SECRET, installationId: GLOBEX, fullName: "globex/secret", tracked: true },
  ]);
  const prs = [
    // W2
    pullRequest(
      API,
      {
        created: "2024-02-19T09:00:00Z",
        commit: "2024-02-18T09:00:00Z",
        review: "2024-02-19T15:00:00Z",
        merged: "2024-02-20T09:00:00Z",
      },
      { additions: 100, deletions: 20 },
    ),
    pullRequest(
      API,
      {
        created: "2024-02-20T10:00:00Z",
        commit: "2024-02-20T08:00:00Z",
        review: "2024-02-21T10:00:00Z",
        merged: "2024-02-22T22:00:00Z",
      },
      { additions: 30, deletions: 10 },
    ),
    pullRequest(
      WEB,
      {
        created: "2024-02-21T00:00:00Z",
        commit: "2024-02-20T00:00:00Z",
        ready: "2024-02-21T12:00:00Z",
        review: "2024-02-21T14:00:00Z",
        merged: "2024-02-23T00:00:00Z",
      },
      { additions: 300, deletions: 0, title: REVERT_TITLE, isRevert: true },
    ),
    pullRequest(
      API,
      { created: "2024-02-22T00:00:00Z", commit: "2024-02-21T23:00:00Z", merged: "2024-02-22T01:00:00Z" },
      { authorLogin: "dependabot[bot]", authorType: "Bot", additions: 1, deletions: 1 },
    ),
    pullRequest(WEB, { created: "2024-02-23T12:00:00Z" }),
    // W3
    pullRequest(
      API,
      {
        created: "2024-02-26T00:00:00Z",
        commit: "2024-02-25T12:00:00Z",
        review: "2024-02-27T00:00:00Z",
        merged: "2024-02-28T00:00:00Z",
      },
      { title: FORMULA_TITLE, isHotfix: true, additions: 8, deletions: 2 },
    ),
    pullRequest(
      WEB,
      { created: "2024-02-26T08:00:00Z", closed: "2024-02-27T08:00:00Z" },
      { title: RAGGED_TITLE },
    ),
    // A deleted account ("ghost"): no login, no type; a person, not a bot.
    pullRequest(
      WEB,
      { created: "2024-02-27T12:00:00Z", merged: "2024-03-01T00:00:00Z" },
      { authorLogin: null, authorType: null },
    ),
    pullRequest(
      API,
      { created: "2024-02-28T00:00:00Z", merged: "2024-02-28T05:00:00Z" },
      { title: "Rollback the deploy", revertPatternMatch: true },
    ),
    pullRequest(OLD, { created: "2024-02-26T00:00:00Z", merged: "2024-02-26T01:00:00Z" }),
    pullRequest(SECRET, { created: "2024-02-26T00:00:00Z", merged: "2024-02-26T02:00:00Z" }),
    // W4
    pullRequest(API, { created: "2024-03-04T12:00:00Z" }),
  ];
  await db.insert(schema.pullRequests).values(prs);
  for (const installationId of [ACME, GLOBEX]) {
    const weeks = affectedWeeks(
      prs.filter((pr) => pr.installationId === installationId) as Parameters<typeof affectedWeeks>[0],
      "UTC",
    );
    await refreshWeeklyMetrics(db, installationId, weeks, "UTC");
  }
  return prs;
}

async function admin(installationIds = [ACME]) {
  // Authorized at the app's "now": no check with GitHub. (It expires an hour after the real now,
  // which signing in again clears expired sessions by.)
  const session = await signedIn(t.database, t.app.server, { installationIds, authorizedAt: NOW });
  return new Browser(t.app.url, session.cookie);
}

const CUSTOM = "range=custom&from=2024-02-12&to=2024-03-03";

describe("metrics page", () => {
  it("shows each week's figures as computed from the stored pull requests, idle weeks as zero", async () => {
    await seed();
    const page = await (await admin()).get(`/installations/${ACME}/metrics?${CUSTOM}`);
    expect(page.status).toBe(200);
    const { rows, exact } = table(page);
    expect(Object.keys(rows)).toEqual(["2024-02-12", "2024-02-19", "2024-02-26", "total"]);
    expect(rows["2024-02-12"]).toMatchObject({
      opened: "0",
      merged: "0",
      cycle: "–",
      reverts: "0",
      size: "–",
    });
    expect(rows["2024-02-19"]).toEqual({
      opened: "4",
      merged: "3",
      cycle: "2 d",
      "cycle-p75": "2.3 d",
      "review-time": "14 h",
      coding: "1 d",
      pickup: "6 h",
      review: "1.4 d",
      reverts: "1",
      hotfixes: "0",
      size: "120 lines",
    });
    expect(exact["2024-02-19"]).toMatchObject({
      cycle: "48.00 hours",
      "cycle-p75": "54.00 hours",
      review: "34.00 hours",
    });
    expect(rows["2024-02-26"]).toMatchObject({
      opened: "4",
      merged: "3",
      cycle: "2 d",
      hotfixes: "1",
      reverts: "0",
    });
    expect(rows.total).toMatchObject({
      opened: "8",
      merged: "6",
      cycle: "2 d",
      "cycle-p75": "2.4 d",
      "review-time": "19 h",
      reverts: "1",
      hotfixes: "1",
    });
    expect(exact.total).toMatchObject({ "cycle-p75": "57.00 hours", "review-time": "19.00 hours" });
    expect(page.body).toContain("Data as of");
    // The charts draw the same weeks, with their numbers in their tooltips.
    expect(page.body).toContain("Week of Feb 19, 2024: 4 opened, 3 merged");
    expect(page.body).toContain('role="img"');
    expect(page.body).toContain(
      `href="/installations/${ACME}/metrics.csv?range=custom&amp;from=2024-02-12&amp;to=2024-02-26"`,
    );
  });

  it("leaves bots out by default and counts them when asked", async () => {
    await seed();
    const browser = await admin();
    const without = table(await browser.get(`/installations/${ACME}/metrics?${CUSTOM}`)).rows;
    const withBots = table(await browser.get(`/installations/${ACME}/metrics?${CUSTOM}&bots=include`)).rows;
    expect(without["2024-02-19"]).toMatchObject({
      opened: "4",
      merged: "3",
      cycle: "2 d",
      size: "120 lines",
    });
    expect(withBots["2024-02-19"]).toMatchObject({
      opened: "5",
      merged: "4",
      cycle: "1.5 d",
      size: "80 lines",
    });
    expect(withBots.total).toMatchObject({ opened: "9", merged: "7" });
  });

  it("shows one repository when one is chosen", async () => {
    await seed();
    const page = await (await admin()).get(`/installations/${ACME}/metrics?${CUSTOM}&repo=${WEB}`);
    expect(page.status).toBe(200);
    const { rows } = table(page);
    // acme/web: W2 b1 and open1 opened, b1 merged (48 h); W3 ragged and ghost opened, ghost merged (60 h).
    expect(rows["2024-02-19"]).toMatchObject({ opened: "2", merged: "1", cycle: "2 d", reverts: "1" });
    expect(rows["2024-02-26"]).toMatchObject({ opened: "2", merged: "1", cycle: "2.5 d" });
    expect(rows.total).toMatchObject({ opened: "4", merged: "2", cycle: "2.3 d" });
    expect(page.body).toMatch(/name="repoName" value="acme\/web"/);
  });

  it("ends a preset range with the current week and marks it as partial", async () => {
    await seed();
    const page = await (await admin()).get(`/installations/${ACME}/metrics?range=4`);
    expect(page.status).toBe(200);
    const { rows } = table(page);
    expect(Object.keys(rows)).toEqual(["2024-02-12", "2024-02-19", "2024-02-26", "2024-03-04", "total"]);
    expect(rows["2024-03-04"]).toMatchObject({ opened: "1", merged: "0" });
    expect(page.body).toContain("(so far)");
    // The default is the last twelve weeks.
    const byDefault = table(await (await admin()).get(`/installations/${ACME}/metrics`)).rows;
    expect(Object.keys(byDefault)).toHaveLength(13);
  });

  it("shows reverts matched by the installation's pattern only when it set one", async () => {
    await seed({ revertPattern: "^Rollback" });
    const page = await (await admin()).get(`/installations/${ACME}/metrics?${CUSTOM}`);
    const { rows } = table(page);
    expect(page.body).toContain("Reverts incl. your pattern");
    expect(rows["2024-02-26"]).toMatchObject({ reverts: "0", "reverts-with-pattern": "1" });
    expect(rows.total).toMatchObject({ reverts: "1", "reverts-with-pattern": "2" });

    await t.database.truncate();
    await seed();
    const plain = await (await admin()).get(`/installations/${ACME}/metrics?${CUSTOM}`);
    expect(plain.body).not.toContain("Reverts incl. your pattern");
    expect(table(plain).rows.total).not.toHaveProperty("reverts-with-pattern");
  });

  it("says when weeks of the range are waiting for their refresh", async () => {
    await seed();
    await t.database.db
      .insert(schema.weeklyMetricsPending)
      .values({ installationId: ACME, weekStart: "2024-02-26" });
    const page = await (await admin()).get(`/installations/${ACME}/metrics?${CUSTOM}`);
    expect(page.body).toContain("One week of this range is being recomputed");
    const later = await (
      await admin()
    ).get(`/installations/${ACME}/metrics?range=custom&from=2024-02-12&to=2024-02-18`);
    expect(later.body).not.toContain("being recomputed");
  });

  it("computes the range's medians again once a change marked its weeks, and after their refresh", async () => {
    const prs = await seed();
    const browser = await admin();
    const path = `/installations/${ACME}/metrics?${CUSTOM}`;
    expect(table(await browser.get(path)).exact.total).toMatchObject({ cycle: "48.00 hours" });

    // A change as the webhooks make one: pull requests, and their weeks marked, in one transaction.
    // Cycle times of the range were 5, 24, 48, 48, 60, 60 h; now 1, 1, 5, 24, 48, 48 → 14.5 h.
    const slow = prs
      .filter((pr) => pr.installationId === ACME && pr.cycleTimeHours === 60)
      .map((pr) => pr.id);
    expect(slow).toHaveLength(2);
    await t.database.db.transaction(async (tx) => {
      await tx
        .update(schema.pullRequests)
        .set({ cycleTimeHours: 1 })
        .where(inArray(schema.pullRequests.id, slow));
      await markWeeksPending(tx, ACME, ["2024-02-19", "2024-02-26"]);
    });
    expect(table(await browser.get(path)).exact.total).toMatchObject({ cycle: "14.50 hours" });

    // The refresh rewrites the weeks and clears the marks: the figures stay the new ones.
    await refreshWeeklyMetrics(t.database.db, ACME, ["2024-02-19", "2024-02-26"], "UTC");
    await clearPendingWeeks(t.database.db, ACME, await listPendingWeeks(t.database.db, ACME));
    const after = await browser.get(path);
    expect(table(after).exact.total).toMatchObject({ cycle: "14.50 hours" });
    expect(after.body).not.toContain("being recomputed");
  });

  it("escapes markup in a repository name", async () => {
    await seed();
    const browser = await admin();
    const chosen = await browser.get(`/installations/${ACME}/metrics?repo=${MARKUP}`);
    expect(chosen.status).toBe(200);
    expect(chosen.body).toContain("acme/&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(chosen.body).not.toContain("<script>alert(1)");
    const suggested = await browser.get(`/installations/${ACME}/metrics/repositories?repoName=script`);
    expect(suggested.body).toContain('<option value="acme/&lt;script&gt;alert(1)&lt;/script&gt;">');
    expect(suggested.body).not.toContain("<script>alert(1)");
  });

  it.each<[string, string, string]>([
    ["an unknown preset", "range=7", "Choose one of the offered ranges."],
    ["a repeated parameter", "range=4&range=12", "Choose one of the offered ranges."],
    [
      "a start after the end",
      "range=custom&from=2024-03-01&to=2024-02-01",
      "The range must end on or after the day it starts.",
    ],
    ["a date that is not one", "range=custom&from=2024-02-30&to=2024-03-01", "Enter a date as YYYY-MM-DD."],
    [
      "garbage for a date",
      "range=custom&from=%3Cb%3Eyesterday%3C%2Fb%3E&to=2024-03-01",
      "Enter a date as YYYY-MM-DD.",
    ],
    ["a custom range without dates", "range=custom", "Enter the first day of the range."],
    [
      "an end in the future",
      "range=custom&from=2024-03-01&to=2024-04-01",
      "The range cannot end after this week.",
    ],
    ["too many weeks", "range=custom&from=2008-01-01&to=2024-03-01", "Choose at most 260 weeks"],
    ["a year before GitHub", "range=custom&from=1999-01-01&to=2000-03-01", "Choose a date from 2008 on."],
    [
      "a repository of another installation",
      `repo=${SECRET}`,
      "acme has no tracked repository with the id 2001.",
    ],
    ["a repository that does not exist", "repo=999999", "acme has no tracked repository with the id 999999."],
    ["an untracked repository", `repo=${OLD}`, "acme/old is not tracked"],
    ["the roll-up's id", "repo=0", "acme has no tracked repository with the id 0."],
    ["garbage for a repository", "repo=%27%20or%201%3D1", "Choose a repository from the list."],
    ["garbage for the bots toggle", "bots=yes", "Tick the box to include bots, or leave it empty."],
    ["another kind of hours", "hours=days", "Choose calendar hours or working hours."],
  ])("refuses %s with a message beside the field, never a 500", async (_name, query, text) => {
    await seed();
    const browser = await admin();
    for (const path of [
      `/installations/${ACME}/metrics?${query}`,
      `/installations/${ACME}/metrics.csv?${query}`,
    ]) {
      const page = await browser.get(path);
      expect(page.status).toBe(400);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(page.body).toContain(text.replace(/"/g, "&quot;"));
      expect(page.body).toContain('aria-invalid="true"');
      // No figures: a refused query shows nothing of anyone's data.
      expect(page.body).not.toContain("data-week=");
      expect(page.body).not.toContain("globex/secret");
      expect(page.body).not.toContain("<b>yesterday");
    }
  });

  it("keeps what was typed in a refused form", async () => {
    await seed();
    const page = await (
      await admin()
    ).get(
      `/installations/${ACME}/metrics?range=custom&from=not-a-date&to=2024-02-01&repo=${API}&bots=include`,
    );
    expect(page.status).toBe(400);
    expect(page.body).toContain('value="not-a-date"');
    expect(page.body).toContain('value="2024-02-01"');
    expect(page.body).toMatch(/name="repoName" value="acme\/api"/);
    expect(page.body).toMatch(/<option value="custom" selected>/);
    expect(page.body).toMatch(/name="bots" value="include" checked/);
  });
});

describe("metrics CSV", () => {
  it("streams one RFC 4180 record per pull request of the range, bots left out", async () => {
    await seed();
    const response = await (await admin()).get(`/installations/${ACME}/metrics.csv?${CUSTOM}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toBe(
      'attachment; filename="pr-pulse-acme-2024-02-12-to-2024-03-03.csv"',
    );
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const rows = csvObjects(response.body);
    // Every pull request with an event in W1..W3 of acme's tracked repositories, oldest first;
    // not the bot's, the untracked repository's, globex's, or this week's.
    expect(rows.map((row) => row.repository)).toEqual([
      "acme/api",
      "acme/api",
      "acme/web",
      "acme/web",
      "acme/api",
      "acme/web",
      "acme/web",
      "acme/api",
    ]);
    const first = rows[0]!;
    expect(first).toMatchObject({
      author: "octocat",
      author_is_bot: "false",
      state: "merged",
      created_at: "2024-02-19T09:00:00Z",
      first_review_at: "2024-02-19T15:00:00Z",
      merged_at: "2024-02-20T09:00:00Z",
      cycle_time_hours: "24",
      review_time_hours: "6",
      coding_phase_hours: "24",
      pickup_phase_hours: "6",
      review_phase_hours: "18",
      size_lines: "120",
      is_revert: "false",
      is_hotfix: "false",
    });
    const ghost = rows.find((row) => row.author === "" && row.state === "merged")!;
    expect(ghost).toMatchObject({ author_is_bot: "false", cycle_time_hours: "60", review_time_hours: "" });

    const withBots = csvObjects(
      (await (await admin()).get(`/installations/${ACME}/metrics.csv?${CUSTOM}&bots=include`)).body,
    );
    expect(withBots).toHaveLength(9);
    expect(withBots.find((row) => row.author === "dependabot[bot]")).toMatchObject({ author_is_bot: "true" });
  });

  it("quotes commas, quotes and line breaks, and neutralises formulas", async () => {
    await seed();
    const response = await (await admin()).get(`/installations/${ACME}/metrics.csv?${CUSTOM}`);
    // Records end with CRLF; the line break inside a title stays inside its quoted field.
    expect(response.body.split("\r\n")[0]).toMatch(/^repository,number,title,author,/);
    expect(response.body).toContain('"Fix, ""quoted""\nsecond line"');
    expect(response.body).toContain('"Revert ""Add <b>bold</b> thing"""');
    // A leading apostrophe: a spreadsheet shows the title as text instead of running it.
    expect(response.body).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(response.body).not.toMatch(/(^|,)=HYPERLINK/m);
    const titles = csvObjects(response.body).map((row) => row.title);
    expect(titles).toContain(RAGGED_TITLE);
    expect(titles).toContain(REVERT_TITLE);
    expect(titles).toContain(`'${FORMULA_TITLE}`);
  });

  it("exports one repository when one is chosen, named after it", async () => {
    await seed();
    const response = await (await admin()).get(`/installations/${ACME}/metrics.csv?${CUSTOM}&repo=${API}`);
    expect(response.headers.get("content-disposition")).toBe(
      'attachment; filename="pr-pulse-acme-api-2024-02-12-to-2024-03-03.csv"',
    );
    const rows = csvObjects(response.body);
    expect(rows).toHaveLength(4);
    expect(new Set(rows.map((row) => row.repository))).toEqual(new Set(["acme/api"]));
  });
});

describe("metrics CSV, a download stopped half-way", () => {
  it("closes the export's cursor and frees its connection", async () => {
    await seed();
    // Enough CSV (20 MB, more than the sockets' buffers on both sides hold) that the export is
    // still reading when the first chunk arrives: long titles, so that few rows make it.
    const start = Date.parse("2024-02-13T00:00:00Z");
    const many = Array.from({ length: 2_000 }, (_, index) =>
      pullRequest(
        API,
        { created: new Date(start + index * 1000).toISOString() },
        { title: "x".repeat(10_000) },
      ),
    );
    for (let at = 0; at < many.length; at += 500) {
      await t.database.db.insert(schema.pullRequests).values(many.slice(at, at + 500));
    }
    const session = await signedIn(t.database, t.app.server, { installationIds: [ACME], authorizedAt: NOW });
    const exports = async () => {
      const [row] = await t.database.sql<{ running: number }[]>`
        select count(*)::int as running from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()
          -- Postgres keeps the first 1,024 bytes of a query's text: its start identifies it.
          and state <> 'idle' and query like '%select p.repository, p.number, p.title%'`;
      return row!.running;
    };

    const download = new AbortController();
    const response = await fetch(`${t.app.url}/installations/${ACME}/metrics.csv?${CUSTOM}`, {
      headers: { cookie: session.cookie },
      signal: download.signal,
    });
    const reader = response.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    expect(await exports()).toBe(1);

    download.abort();
    await waitFor(async () => (await exports()) === 0, {
      timeoutMs: 10_000,
      what: "the export's cursor to close",
    });
    // The pool still answers: the connection went back to it.
    expect(
      (await (await admin()).get(`/installations/${ACME}/metrics.csv?${CUSTOM}&repo=${WEB}`)).status,
    ).toBe(200);
  });
});

describe("metrics access", () => {
  const paths = [`/installations/${ACME}/metrics`, `/installations/${ACME}/metrics.csv`];

  it.each(paths)("sends an anonymous visitor of %s to sign in", async (path) => {
    await seed();
    const page = await new Browser(t.app.url).get(path);
    expect(page.status).toBe(303);
    expect(page.location).toBe(`/login?next=${encodeURIComponent(path)}`);
  });

  it.each(paths)("answers 404 on %s to another organization's admin and to a plain member", async (path) => {
    await seed();
    for (const browser of [await admin([GLOBEX]), await admin([])]) {
      const page = await browser.get(path);
      expect(page.status).toBe(404);
      expect(page.body).not.toContain("acme/api");
      expect(page.body).not.toContain("data-week=");
    }
  });

  it.each(paths)("serves %s to the installation's admin", async (path) => {
    await seed();
    const page = await (await admin()).get(path);
    expect(page.status).toBe(200);
  });

  it("answers 404 for an installation id that is not one", async () => {
    await seed();
    const page = await (await admin()).get("/installations/abc/metrics");
    expect(page.status).toBe(404);
  });
});
