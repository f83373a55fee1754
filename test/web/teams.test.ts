import { describe, expect, it } from "@jest/globals";
import {
  clearPendingWeeks,
  listPendingWeeks,
  markWeeksPending,
  refreshWeeklyMetrics,
} from "../../src/db/queries/weekly-metrics.js";
import * as schema from "../../src/db/schema/index.js";
import { defaultInstallationSettings } from "../../src/settings.js";
import { recomputePullRequests } from "../../src/sync/recompute.js";
import { Browser, type Page } from "../support/browser.js";
import { useTestApp } from "../support/harness.js";
import { csvObjects, table } from "../support/metrics-page.js";
import { signedIn } from "../support/session.js";

// Figures cut by team, and review load, on real Postgres: pull requests and reviews are stored as
// the sync stores them (derived columns computed by the app), teams as the members sync stores
// them, and every expected number is worked out by hand below.
//
// The clock stands at Wednesday 2024-03-06 12:00 UTC; UTC weeks W1 = 2024-02-19, W2 = 2024-02-26,
// W3 = 2024-03-04. Teams: Platform ⊃ Infra, and Product. Ada is in Platform, Grace in Infra (so in
// Platform too), Linus in Product, Ken in none.
//
//   P1 ada    opened W2 Mon 09:00, merged Tue 09:00 (24 h); reviews: grace Mon 13:00 (first, 4 h),
//             linus Mon 15:00
//   P2 grace  opened W2 Tue 10:00, merged Wed 20:00 (34 h); reviews: ada Tue 12:00 (first, 2 h),
//             ken Wed 10:00
//   P3 linus  opened W3 Mon 09:00, merged 19:00 (10 h); reviews: linus himself 09:15, a bot 09:30
//             (neither counts), ada 10:00 (first, 1 h), grace 11:00
//   P4 ken    opened W3 Tue 09:00, open; reviews: linus 17:00 (first, 8 h), ada pending (no)
//   P5 ada    opened W1 Tue 10:00, merged W3 Tue 10:00 (336 h); reviews: linus W1 Wed 10:00
//             (first, 24 h), grace W3 Tue 09:00
//   P6 dependabot[bot] opened W3 Mon 08:00, merged 12:00 (4 h); review: ada 11:00 (first, 3 h)
//
// Platform's pull requests (people only): P5 (W1), P1, P2 (W2). W1 opened 1, first reviewed P5
// (24 h); W2 opened 2, merged 2 (24, 34 h → 29 h), first reviewed 4 and 2 h → 3 h; W3 merged P5
// (336 h). Over W1–W3: opened 3, merged 3, cycle 24, 34, 336 → 34 h; first review 2, 4, 24 → 4 h.
// The organization's W3 (people only): merged P3 and P5 → cycle (10 + 336) / 2 = 173 h.
//
// Reviews that count (people's pull requests): grace P1, P3, P5 = 3; linus P1, P4, P5 = 3; ada P2,
// P3 = 2; ken P2 = 1. Everyone: 9 reviews, 4 reviewers, top 3 gave 8 (89%), the top 20% (1) gave
// 3 (33%); first reviews P1 grace 4 h, P2 ada 2 h, P3 ada 1 h, P4 linus 8 h, P5 linus 24 h → 5,
// median 4 h. Platform (ada, grace): 5 reviews, 2 reviewers, 100%, top 20% (1) 3 of 5 = 60%;
// first reviews P1, P2, P3 → 3, median 2 h. Infra (grace): 3, 1, 100%, 100%, 1 first review, 4 h.
// Product (linus): 3, 1, 100%, 100%, 2 first reviews, 8 and 24 → 16 h.

const NOW = new Date("2024-03-06T12:00:00Z");
const t = useTestApp(() => ({ queues: [], now: () => NOW }));

const ACME = 101;
const GLOBEX = 202;
const API = 1001;
const PLATFORM = 10;
const INFRA = 11;
const PRODUCT = 12;
const GLOBEX_TEAM = 20;
const [ADA, GRACE, LINUS, KEN, BOT] = [1, 2, 3, 4, 99];
const RANGE = "range=custom&from=2024-02-19&to=2024-03-04";

const people: Record<number, string> = {
  [ADA]: "ada",
  [GRACE]: "grace",
  [LINUS]: "linus",
  [KEN]: "ken",
  [BOT]: "dependabot[bot]",
};

let nextReviewId = 500;

function pullRequest(
  id: number,
  author: number,
  created: string,
  merged: string | null,
): typeof schema.pullRequests.$inferInsert {
  return {
    installationId: ACME,
    id,
    repoId: API,
    number: id,
    title: `Change ${id}`,
    state: merged ? "merged" : "open",
    authorId: author,
    authorLogin: people[author]!,
    authorType: author === BOT ? "Bot" : "User",
    headRef: `feature/${id}`,
    baseRef: "main",
    createdAt: new Date(created),
    updatedAt: new Date(merged ?? created),
    mergedAt: merged ? new Date(merged) : null,
    closedAt: merged ? new Date(merged) : null,
    additions: 10,
    deletions: 5,
  };
}

function review(pullRequestId: number, reviewer: number, submitted: string | null, state = "approved") {
  return {
    id: nextReviewId++,
    installationId: ACME,
    pullRequestId,
    repoId: API,
    reviewerId: reviewer,
    reviewerLogin: people[reviewer]!,
    reviewerType: reviewer === BOT ? "Bot" : "User",
    state: state as "approved" | "commented" | "pending",
    submittedAt: submitted ? new Date(submitted) : null,
  };
}

async function seed() {
  const db = t.database.db;
  await db.insert(schema.installations).values([
    {
      id: ACME,
      accountId: 1,
      accountLogin: "acme",
      accountType: "Organization",
      settings: defaultInstallationSettings,
    },
    { id: GLOBEX, accountId: 2, accountLogin: "globex", accountType: "Organization" },
  ]);
  await db
    .insert(schema.repositories)
    .values([{ id: API, installationId: ACME, fullName: "acme/api", tracked: true }]);
  await db
    .insert(schema.members)
    .values(
      [ADA, GRACE, LINUS, KEN].map((userId) => ({ installationId: ACME, userId, login: people[userId]! })),
    );
  await db.insert(schema.teams).values([
    { installationId: ACME, id: PLATFORM, slug: "platform", name: "Platform" },
    { installationId: ACME, id: INFRA, slug: "infra", name: "Infra", parentId: PLATFORM },
    { installationId: ACME, id: PRODUCT, slug: "product", name: "Product" },
    { installationId: GLOBEX, id: GLOBEX_TEAM, slug: "secret", name: "Secret" },
  ]);
  await db.insert(schema.teamMembers).values([
    { installationId: ACME, teamId: PLATFORM, userId: ADA, login: "ada" },
    { installationId: ACME, teamId: INFRA, userId: GRACE, login: "grace" },
    { installationId: ACME, teamId: PRODUCT, userId: LINUS, login: "linus" },
    { installationId: GLOBEX, teamId: GLOBEX_TEAM, userId: 77, login: "mallory" },
  ]);
  await db
    .insert(schema.pullRequests)
    .values([
      pullRequest(1, ADA, "2024-02-26T09:00:00Z", "2024-02-27T09:00:00Z"),
      pullRequest(2, GRACE, "2024-02-27T10:00:00Z", "2024-02-28T20:00:00Z"),
      pullRequest(3, LINUS, "2024-03-04T09:00:00Z", "2024-03-04T19:00:00Z"),
      pullRequest(4, KEN, "2024-03-05T09:00:00Z", null),
      pullRequest(5, ADA, "2024-02-20T10:00:00Z", "2024-03-05T10:00:00Z"),
      pullRequest(6, BOT, "2024-03-04T08:00:00Z", "2024-03-04T12:00:00Z"),
    ]);
  await db
    .insert(schema.reviews)
    .values([
      review(1, GRACE, "2024-02-26T13:00:00Z"),
      review(1, LINUS, "2024-02-26T15:00:00Z", "commented"),
      review(2, ADA, "2024-02-27T12:00:00Z"),
      review(2, KEN, "2024-02-28T10:00:00Z", "commented"),
      review(3, LINUS, "2024-03-04T09:15:00Z", "commented"),
      review(3, BOT, "2024-03-04T09:30:00Z", "commented"),
      review(3, ADA, "2024-03-04T10:00:00Z"),
      review(3, GRACE, "2024-03-04T11:00:00Z"),
      review(4, LINUS, "2024-03-05T17:00:00Z", "commented"),
      review(4, ADA, null, "pending"),
      review(5, LINUS, "2024-02-21T10:00:00Z", "commented"),
      review(5, GRACE, "2024-03-05T09:00:00Z"),
      review(6, ADA, "2024-03-04T11:00:00Z"),
    ]);
  // The derived columns (first review and reviewer, durations) as the app computes them.
  await recomputePullRequests(db, ACME, [1, 2, 3, 4, 5, 6], defaultInstallationSettings);
  await refreshWeeklyMetrics(db, ACME, ["2024-02-19", "2024-02-26", "2024-03-04"], "UTC");
}

async function admin(installationIds = [ACME]) {
  const session = await signedIn(t.database, t.app.server, { installationIds, authorizedAt: NOW });
  return new Browser(t.app.url, session.cookie);
}

/** A table's rows by their key attribute (data-week, data-team), each cell's text by its metric. */
function rows(page: Page, key: "data-week" | "data-team", tableClass: string) {
  const body =
    new RegExp(`<table class="[^"]*${tableClass}[^"]*">([\\s\\S]*?)</table>`).exec(page.body)?.[1] ?? "";
  const found: Record<string, Record<string, string>> = {};
  for (const [, id, cells] of body.matchAll(new RegExp(`<tr ${key}="([^"]+)"[^>]*>([\\s\\S]*?)</tr>`, "g"))) {
    found[id!] = {};
    for (const [, metric, text] of cells!.matchAll(
      /<td class="num" data-metric="([^"]+)"[^>]*>([^<]*)<\/td>/g,
    )) {
      found[id!]![metric!] = text!;
    }
  }
  return found;
}

describe("metrics cut by team", () => {
  it("shows the team's weeks and range, its sub-teams' members' pull requests included", async () => {
    await seed();
    const browser = await admin();
    const page = await browser.get(`/installations/${ACME}/metrics?${RANGE}&team=${PLATFORM}`);
    expect(page.status).toBe(200);
    const { rows: weeks, exact } = table(page);
    const pick = (week: Record<string, string>) => ({
      opened: week.opened,
      merged: week.merged,
      cycle: week.cycle,
      review: week["review-time"],
    });
    expect(pick(weeks["2024-02-19"]!)).toEqual({ opened: "1", merged: "0", cycle: "–", review: "1 d" });
    expect(pick(weeks["2024-02-26"]!)).toEqual({ opened: "2", merged: "2", cycle: "1.2 d", review: "3 h" });
    expect(pick(weeks["2024-03-04"]!)).toEqual({ opened: "0", merged: "1", cycle: "14 d", review: "–" });
    expect(pick(weeks.total!)).toEqual({ opened: "3", merged: "3", cycle: "1.4 d", review: "4 h" });
    expect(exact["2024-02-26"]!.cycle).toBe("29.00 hours");
    expect(exact.total!.cycle).toBe("34.00 hours");
    expect(page.body).toContain("all tracked repositories, team Platform");
    expect(page.body).toContain(`<option value="${INFRA}">\u00a0\u00a0Infra</option>`);

    // The organization as a whole is unchanged by the teams: W3 merged P3 and P5.
    const org = table(await browser.get(`/installations/${ACME}/metrics?${RANGE}`));
    expect(org.exact["2024-03-04"]!.cycle).toBe("173.00 hours");
  });

  it("exports the team's pull requests, and every row says its author's teams", async () => {
    await seed();
    const browser = await admin();
    const team = csvObjects(
      (await browser.get(`/installations/${ACME}/metrics.csv?${RANGE}&team=${PLATFORM}`)).body,
    );
    expect(team.map((row) => [row.number, row.author, row.teams])).toEqual([
      ["5", "ada", "platform"],
      ["1", "ada", "platform"],
      ["2", "grace", "infra platform"],
    ]);
    const everyone = csvObjects(
      (await browser.get(`/installations/${ACME}/metrics.csv?${RANGE}&bots=include`)).body,
    );
    expect(Object.fromEntries(everyone.map((row) => [row.number, row.teams]))).toEqual({
      "5": "platform",
      "1": "platform",
      "2": "infra platform",
      "6": "",
      "3": "product",
      "4": "",
    });
  });

  it("refuses a team of another installation, or none, beside the field", async () => {
    await seed();
    const browser = await admin([ACME, GLOBEX]);
    for (const team of [GLOBEX_TEAM, 4242]) {
      const page = await browser.get(`/installations/${ACME}/metrics?${RANGE}&team=${team}`);
      expect(page.status).toBe(400);
      expect(page.body).toContain(`acme has no team with the id ${team}.`);
      const csv = await browser.get(`/installations/${ACME}/metrics.csv?${RANGE}&team=${team}`);
      expect(csv.status).toBe(400);
    }
  });
});

describe("review load", () => {
  it("lists every team's review load over the range, and everyone's", async () => {
    await seed();
    const page = await (await admin()).get(`/installations/${ACME}/teams?${RANGE}`);
    expect(page.status).toBe(200);
    const load = rows(page, "data-team", "teams-table");
    const columns = (row: Record<string, string>) => [
      row.reviews,
      row.reviewers,
      row["top-three"],
      row["top-fifth"],
      row["first-reviews"],
      row["first-review-time"],
    ];
    expect(columns(load.everyone!)).toEqual(["9", "4", "89%", "33%", "5", "4 h"]);
    expect(columns(load[PLATFORM]!)).toEqual(["5", "2", "100%", "60%", "3", "2 h"]);
    expect(columns(load[INFRA]!)).toEqual(["3", "1", "100%", "100%", "1", "4 h"]);
    expect(columns(load[PRODUCT]!)).toEqual(["3", "1", "100%", "100%", "2", "16 h"]);
    expect(load[PLATFORM]!.members).toBe("2");
    // Parents before their children.
    expect([...page.body.matchAll(/<tr data-team="([^"]+)"/g)].map((match) => match[1])).toEqual([
      "everyone",
      String(PLATFORM),
      String(INFRA),
      String(PRODUCT),
    ]);
    expect(page.body).not.toContain("Secret");
  });

  it("counts reviews of bots' pull requests only when they are included", async () => {
    await seed();
    const page = await (await admin()).get(`/installations/${ACME}/teams?${RANGE}&bots=include`);
    const load = rows(page, "data-team", "teams-table");
    // Ada's review of P6 (3 h after it opened) joins in.
    expect([load.everyone!.reviews, load.everyone!["first-reviews"]]).toEqual(["10", "6"]);
    expect([
      load[PLATFORM]!.reviews,
      load[PLATFORM]!["first-reviews"],
      load[PLATFORM]!["first-review-time"],
    ]).toEqual(["6", "4", "2.5 h"]);
  });

  it("shows a team's weeks beside the organization's, its members' reviews, and who is in it", async () => {
    await seed();
    const page = await (await admin()).get(`/installations/${ACME}/teams/${PLATFORM}?${RANGE}`);
    expect(page.status).toBe(200);
    const weeks = rows(page, "data-week", "team-weeks");
    expect(weeks["2024-03-04"]).toEqual({
      opened: "0",
      merged: "1",
      cycle: "14 d",
      "org-cycle": "7.2 d",
      "review-time": "–",
      "org-review-time": "4.5 h",
      reviews: "3",
      reviewers: "2",
      "first-reviews": "1",
      "first-review-time": "1 h",
    });
    expect(weeks["2024-02-26"]).toMatchObject({
      reviews: "2",
      reviewers: "2",
      "first-reviews": "2",
      "first-review-time": "3 h",
    });
    expect(weeks["2024-02-19"]).toMatchObject({ reviews: "0", "first-reviews": "0" });
    expect(weeks.total).toMatchObject({
      merged: "3",
      cycle: "1.4 d",
      reviews: "5",
      "first-reviews": "3",
      "first-review-time": "2 h",
    });
    expect(page.body).toMatch(/top 3 gave <strong data-metric="top-three">100%<\/strong>/);
    expect(page.body).toMatch(/\(1 of them\) gave <strong data-metric="top-fifth">60%<\/strong>/);
    // Members: Ada directly, Grace through Infra; each links to their own page. No numbers by name.
    expect(page.body).toContain(`href="/installations/${ACME}/people/${ADA}?`);
    expect(page.body).toMatch(/@grace<\/a> <span class="badge">via a sub-team<\/span>/);
    expect(page.body).toContain("Teams under it");
  });

  it("shows one person's reviews on their own page", async () => {
    await seed();
    const page = await (await admin()).get(`/installations/${ACME}/people/${ADA}?${RANGE}`);
    expect(page.status).toBe(200);
    const weeks = rows(page, "data-week", "person-weeks");
    expect(weeks["2024-02-26"]).toEqual({ reviews: "1", "first-reviews": "1", "first-review-time": "2 h" });
    expect(weeks["2024-03-04"]).toEqual({ reviews: "1", "first-reviews": "1", "first-review-time": "1 h" });
    expect(page.body).toContain('<span data-metric="reviews">2</span> reviews given');
    expect(page.body).toMatch(/<strong>22%<\/strong> of the organization&#39;s reviews/);
    expect(page.body).toMatch(/<strong>40%<\/strong> <a href="[^"]+">of Platform&#39;s reviews<\/a>/);
  });
});

describe("kept figures", () => {
  it("are not shown once a review arrives or a team changes: the next view counts it, before and after the weekly refresh", async () => {
    await seed();
    const browser = await admin();
    const everyone = async (path: string) =>
      rows(await browser.get(path), "data-team", "teams-table").everyone!;
    const teamWeek = async () =>
      rows(await browser.get(`/installations/${ACME}/teams/${PLATFORM}?${RANGE}`), "data-week", "team-weeks")[
        "2024-02-19"
      ]!;
    const teamsPath = `/installations/${ACME}/teams?${RANGE}`;
    const metricsPath = `/installations/${ACME}/metrics?${RANGE}&team=${PLATFORM}`;
    expect(table(await browser.get(metricsPath)).rows["2024-03-04"]!.opened).toBe("0");
    expect((await everyone(teamsPath)).reviews).toBe("9");
    expect((await teamWeek()).reviews).toBe("0");
    // Grace reviews P5 again in W1: the week of no event of P5, as the review webhook leaves it.
    await t.database.db.insert(schema.reviews).values(review(5, GRACE, "2024-02-22T10:00:00Z", "commented"));
    await recomputePullRequests(t.database.db, ACME, [5], defaultInstallationSettings);
    await markWeeksPending(t.database.db, ACME, ["2024-02-19", "2024-03-04"]);
    expect((await everyone(teamsPath)).reviews).toBe("10");
    expect((await teamWeek()).reviews).toBe("1");
    // The weekly job refreshes the weeks and clears them.
    await refreshWeeklyMetrics(t.database.db, ACME, ["2024-02-19", "2024-03-04"], "UTC");
    await clearPendingWeeks(t.database.db, ACME, await listPendingWeeks(t.database.db, ACME));
    expect((await everyone(teamsPath)).reviews).toBe("10");
    expect((await teamWeek()).reviews).toBe("1");
    expect(table(await browser.get(metricsPath)).rows["2024-03-04"]!.opened).toBe("0");
    // Ken joins Platform on GitHub: his review of P2 is Platform's now (5 + Grace's new one + his).
    await t.database.db
      .insert(schema.teamMembers)
      .values({ installationId: ACME, teamId: PLATFORM, userId: KEN, login: "ken" });
    expect(rows(await browser.get(teamsPath), "data-team", "teams-table")[PLATFORM]!.reviews).toBe("7");
    // And his pull request P4, opened in W3, is Platform's too.
    expect(table(await browser.get(metricsPath)).rows["2024-03-04"]!.opened).toBe("1");
  });
});

describe("access", () => {
  it("answers 404 for another installation's team or person, and sends a stranger to sign in", async () => {
    await seed();
    const browser = await admin();
    for (const path of [
      `/installations/${ACME}/teams/${GLOBEX_TEAM}`,
      `/installations/${ACME}/teams/4242`,
      `/installations/${ACME}/people/77`,
      `/installations/${GLOBEX}/teams/${GLOBEX_TEAM}`,
      `/installations/${GLOBEX}/teams`,
    ]) {
      const page = await browser.get(path);
      expect([path, page.status]).toEqual([path, 404]);
      expect(page.body).not.toContain("Secret");
      expect(page.body).not.toContain("mallory");
    }
    const stranger = await new Browser(t.app.url).get(`/installations/${ACME}/teams/${PLATFORM}`);
    expect(stranger.status).toBe(303);
    expect(stranger.location).toMatch(/^\/login\?next=/);
    const garbage = await browser.get(`/installations/${ACME}/teams/not-a-team`);
    expect(garbage.status).toBe(400);
  });
});
