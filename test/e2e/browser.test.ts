import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import * as schema from "../../src/db/schema/index.js";
import { defaultInstallationSettings } from "../../src/settings.js";
import { launchChromium, screenshot } from "../support/chromium.js";
import { APP_ID, startTestApp, WEBHOOK_SECRET, type TestApp } from "../support/app.js";
import { freePort } from "../support/free-port.js";
import { expectedWorkingHours, median } from "../support/working-hours.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import {
  buildWebhook,
  deliverWebhook,
  startFakeGitHub,
  type FakeGitHub,
} from "../support/fake-github/index.js";

// A new admin in a real browser (Debian's chromium, driven by playwright-core) against the app
// wired to the fake GitHub as a GHES: sign in through the OAuth flow, track repositories, watch the
// backfill, go further back with an estimate first, change a pattern, repair a missed webhook with
// Sync now, match a commit identity to a member, read the webhook health, narrow the metrics and
// download their CSV, cut them by team, read the teams' review load, a team's page and a person's,
// set working hours and read the metrics in them, then every page again at a phone's width (nothing
// scrolls sideways, every tab in sight), with no request of any page left unanswered (the icon
// included). A screenshot of every page goes to test/screenshots/ (not committed) with TEST_SCREENSHOTS=1.

const DAY_MS = 86_400_000;
/** A member's own address, which the organization's member list does not know. */
const PERSONAL_EMAIL = "grace.at.home@example.net";

let database: TestDatabase;
let github: FakeGitHub;
let app: TestApp;
let browser: Browser;
let page: Page;
const failedLoads: string[] = [];

async function shot(name: string) {
  await screenshot(page, name);
}

/** A webhook from the fake GitHub, signed and posted the way GitHub posts it. */
async function deliver(hook: { name: string; id: string; payload: unknown }) {
  return deliverWebhook({
    url: `${app.url}/api/github/webhooks`,
    secret: WEBHOOK_SECRET,
    name: hook.name,
    id: hook.id,
    payload: hook.payload,
    appId: Number(APP_ID),
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  github = await startFakeGitHub({ seed: 31 });
  const port = await freePort();
  const { clientId, clientSecret } = github.oauth.credentials(Number(APP_ID));
  app = await startTestApp(database, {
    env: {
      GHE_HOST: github.host,
      GHE_PROTOCOL: "http",
      GITHUB_CLIENT_ID: clientId,
      GITHUB_CLIENT_SECRET: clientSecret,
      PORT: String(port),
      BASE_URL: `http://127.0.0.1:${port}`,
    },
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // Every request the pages make (the icon, styles, scripts) must be answered.
  page.on("response", (response) => {
    if (response.status() >= 400 && response.request().resourceType() !== "document") {
      failedLoads.push(`${response.status()} ${response.url()}`);
    }
  });
  page.on("console", (entry) => {
    if (entry.type() === "error") failedLoads.push(entry.text());
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await github?.close();
  await database?.drop();
});

it("takes a new admin from sign-in to synced repositories, new patterns, matched members, webhook health and metrics", async () => {
  // An organization on GitHub with the App installed; its admin is the browser's user.
  const seeded = github.world.seedOrg({
    login: "northwind",
    repos: 4,
    prsPerRepo: 60,
    members: 5,
    spanDays: 120,
    appId: Number(APP_ID),
  });
  const admin = seeded.members[0]!;
  // Teams on GitHub: Engineering ⊃ Backend; Design apart.
  const engineering = github.world.addTeam("northwind", { name: "Engineering" });
  const backend = github.world.addTeam("northwind", { name: "Backend", parentId: engineering.id });
  const design = github.world.addTeam("northwind", { name: "Design" });
  github.world.addTeamMember(engineering.id, admin.id);
  github.world.addTeamMember(backend.id, seeded.members[1]!.id);
  github.world.addTeamMember(backend.id, seeded.members[2]!.id);
  github.world.addTeamMember(design.id, seeded.members[3]!.id);
  github.oauth.setRole("northwind", admin.login, "admin");
  github.oauth.signInAs(admin.login);
  // Auto-tracking off, so the admin chooses the repositories.
  await database.db.insert(schema.installations).values({
    id: seeded.installation.id,
    accountId: seeded.org.id,
    accountLogin: "northwind",
    accountType: "Organization",
    settings: { ...defaultInstallationSettings, autoTrackNewRepos: false },
  });
  const hook = buildWebhook(
    github.world,
    "installation",
    "created",
    { installationId: seeded.installation.id },
    github.urls,
  );
  expect((await deliver(hook)).status).toBe(202);
  await app.drain();

  // 1. Sign in with GitHub.
  await page.goto(app.url);
  await shot("01-sign-in");
  await page.getByRole("link", { name: "Sign in with GitHub" }).click();
  await page.waitForURL(`${app.url}/`);
  await expect(page.getByRole("heading", { name: "Installations" }).isVisible()).resolves.toBe(true);
  await shot("02-installations");

  // 2. The repositories: track two of them, after the estimate.
  await page.getByRole("link", { name: "northwind", exact: true }).click();
  await page.waitForURL(/\/repositories$/);
  expect(await page.locator(".repo-name").count()).toBe(4);
  await shot("03-repositories");
  const [first, second] = seeded.repos;
  await page.getByLabel(`Select northwind/${first!.name}`).check();
  await page.getByLabel(`Select northwind/${second!.name}`).check();
  await page.getByRole("button", { name: "Track", exact: true }).click();
  await page.getByRole("heading", { name: "Track 2 repositories?" }).waitFor();
  await expect(page.getByText("Pull requests to fetch").isVisible()).resolves.toBe(true);
  await shot("04-track-estimate");
  await page.getByRole("button", { name: "Start syncing" }).click();
  await page.getByText("2 repositories are now tracked").waitFor();

  // 3. The backfill runs; the rows refresh themselves until both are up to date at 100%.
  const firstRow = page.locator("tr", { hasText: `northwind/${first!.name}` });
  const secondRow = page.locator("tr", { hasText: `northwind/${second!.name}` });
  await firstRow.getByText("Up to date").waitFor({ timeout: 60_000 });
  await secondRow.getByText("Up to date").waitFor({ timeout: 60_000 });
  await expect(firstRow.locator("progress").getAttribute("value")).resolves.toBe("100");
  await shot("05-synced");

  // 4. Further back for one repository: the estimate comes first.
  await firstRow.getByLabel(`Sync depth of northwind/${first!.name}`).selectOption("90d");
  await page.getByRole("heading", { name: `Sync northwind/${first!.name} further back?` }).waitFor();
  await shot("06-depth-estimate");
  await page.getByRole("button", { name: "Sync 90 days" }).click();
  await page.getByText("now syncs 90 days").waitFor();
  await firstRow.getByText("Up to date").waitFor({ timeout: 60_000 });

  // 5. A new hotfix pattern: preview it, save it, and the stored flags follow.
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByLabel("Hotfix title pattern").fill("\\b(fix|hotfix)\\b");
  await page.getByRole("button", { name: /Preview on the last/ }).click();
  await page.locator("#preview").waitFor();
  await shot("07-settings-preview");
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByText("Settings saved.").waitFor();
  await shot("08-settings-saved");
  await app.drain();
  const stored = await database.db
    .select({
      title: schema.pullRequests.title,
      headRef: schema.pullRequests.headRef,
      hotfix: schema.pullRequests.isHotfix,
    })
    .from(schema.pullRequests);
  const expected = (pr: { title: string; headRef: string }) =>
    /^(hotfix|hot-fix)[/-]/i.test(pr.headRef) || /\b(fix|hotfix)\b/i.test(pr.title);
  expect(stored.map((pr) => pr.hotfix)).toEqual(stored.map(expected));
  // The new pattern changed something: pull requests titled "fix" but not "hotfix" are hotfixes now.
  expect(
    stored.filter(
      (pr) => pr.hotfix && !/\bhotfix\b/i.test(pr.title) && !/^(hotfix|hot-fix)[/-]/i.test(pr.headRef),
    ).length,
  ).toBeGreaterThan(0);

  // 6. GitHub moves on: a member pushes two commits from a personal address and that webhook never
  //    arrives; a new pull request's does; a forged delivery is refused. Sync now repairs the miss.
  const grace = seeded.members[1]!;
  const latest = [...github.world.listPullRequests(first!.id)]
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .at(-1)!;
  for (const message of ["Fix the flaky login test", "Tidy the fixtures"]) {
    github.world.addCommit(latest.id, {
      authorUserId: null,
      authorEmail: PERSONAL_EMAIL,
      authorName: grace.name!,
      message,
    });
  }
  const opened = github.world.createPullRequest(second!.id, {
    authorId: grace.id,
    title: "Show webhook health",
  });
  const openedHook = buildWebhook(github.world, "pull_request", "opened", { prId: opened.id }, github.urls);
  expect((await deliver(openedHook)).status).toBe(202);
  const forged = buildWebhook(github.world, "pull_request", "opened", { prId: opened.id }, github.urls);
  delete (forged.payload as { pull_request?: unknown }).pull_request;
  expect((await deliver(forged)).status).toBe(400);
  await page.getByRole("link", { name: "Repositories" }).click();
  await firstRow.getByRole("button", { name: "Sync now" }).click();
  await page.getByText(`northwind/${first!.name}: syncing what changed since the last sync.`).waitFor();
  await app.drain();

  // 7. Members: the personal address counts for nobody until the admin matches it to its member.
  await page.getByRole("link", { name: "Members" }).click();
  await page.waitForURL(/\/members$/);
  const identityRow = page.locator("table.identities tbody tr", { hasText: PERSONAL_EMAIL });
  await expect(identityRow.locator("td.num").textContent()).resolves.toBe("2");
  await shot("09-members");
  await identityRow.getByRole("link", { name: "Match…" }).click();
  await page.getByRole("heading", { name: "Match a commit identity" }).waitFor();
  await page.getByLabel("Member").selectOption({ label: `${grace.login} (${grace.name})` });
  await shot("10-match-identity");
  await page.getByRole("button", { name: "Match", exact: true }).click();
  await page.getByText(`is now matched to @${grace.login}`).waitFor();
  await shot("11-members-matched");
  expect(await page.locator("table.identities tbody tr", { hasText: PERSONAL_EMAIL }).count()).toBe(0);
  const graceRow = page.locator("table.members tbody tr", { hasText: `@${grace.login}` });
  await expect(graceRow.locator(".identity-list").textContent()).resolves.toContain(PERSONAL_EMAIL);
  await expect(
    page.locator("table.manual-matches tbody tr", { hasText: PERSONAL_EMAIL }).textContent(),
  ).resolves.toContain(`@${grace.login}`);

  // 8. Webhook health: the deliveries by event, the refusal, and the drift Sync now repaired (one
  //    pull request changed, two commits unknown).
  await page.getByRole("link", { name: "Webhook health" }).click();
  await page.getByRole("heading", { name: "Webhook health", level: 1 }).waitFor();
  await shot("12-webhook-health");
  await expect(page.locator("dl.live-facts").textContent()).resolves.toMatch(
    /pull_request\.opened[\s\S]*refused/,
  );
  const deliveries = page.locator("table.deliveries tbody tr");
  await expect(deliveries.allTextContents()).resolves.toEqual([
    expect.stringContaining("installation"),
    expect.stringContaining("pull_request"),
  ]);
  await expect(page.locator("table.failures tbody").textContent()).resolves.toContain("pull_request");
  const driftRow = page.locator("table.drift tbody tr", { hasText: `northwind/${first!.name}` });
  await expect(driftRow.locator("td").last().textContent()).resolves.toBe("3");

  // 9. Metrics: twelve weeks of every tracked repository, then 26 weeks of one; its totals and its
  //    CSV hold what the database holds.
  await page.getByRole("link", { name: "Metrics" }).click();
  await page.getByRole("heading", { name: "Metrics", level: 1 }).waitFor();
  const weeks = page.locator("table.metrics-table tbody tr");
  expect(await weeks.count()).toBe(12);
  await shot("13-metrics");
  await page.getByLabel("Weeks").selectOption({ label: "Last 26 weeks" });
  // The repository filter is a search: the full name picks the repository.
  await page.getByLabel("Repository").fill(`northwind/${first!.name}`);
  await page.getByRole("button", { name: "Show" }).click();
  await page.waitForURL(/range=26/);
  expect(await weeks.count()).toBe(26);
  await expect(page.locator("table.metrics-table caption").textContent()).resolves.toContain(
    `northwind/${first!.name}`,
  );
  await shot("14-metrics-filtered");
  const weekStarts = await weeks.evaluateAll((rows) => rows.map((row) => row.getAttribute("data-week")!));
  const from = new Date(`${weekStarts[0]}T00:00:00Z`);
  const to = new Date(new Date(`${weekStarts.at(-1)}T00:00:00Z`).getTime() + 7 * DAY_MS);
  const inRange = (date: Date | null) => date !== null && date >= from && date < to;
  const humans = (
    await database.db.select().from(schema.pullRequests).where(eq(schema.pullRequests.repoId, first!.id))
  ).filter((pr) => pr.authorType !== "Bot" && !pr.authorLogin?.endsWith("[bot]"));
  await expect(
    page.locator('table.metrics-table tfoot td[data-metric="merged"]').textContent(),
  ).resolves.toBe(String(humans.filter((pr) => inRange(pr.mergedAt)).length));
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download CSV" }).click(),
  ]);
  const csv = (await readFile(await download.path(), "utf8")).trimEnd().split("\r\n");
  expect(csv[0]).toBe(
    "repository,number,title,author,author_is_bot,state,draft,created_at,first_commit_at," +
      "ready_for_review_at,first_review_at,merged_at,closed_at,cycle_time_hours,review_time_hours," +
      "coding_phase_hours,pickup_phase_hours,review_phase_hours,additions,deletions,size_lines," +
      "is_revert,revert_pattern_match,is_hotfix,teams,cycle_time_working_hours,review_time_working_hours," +
      "coding_phase_working_hours,pickup_phase_working_hours,review_phase_working_hours,excluded_reason",
  );
  const exported = humans.filter(
    (pr) =>
      inRange(pr.createdAt) || inRange(pr.mergedAt) || inRange(pr.closedAt) || inRange(pr.firstReviewAt),
  );
  expect(exported.length).toBeGreaterThan(0);
  expect(
    csv
      .slice(1)
      .map((line) => line.split(",").slice(0, 2).join(","))
      .sort(),
  ).toEqual(exported.map((pr) => `northwind/${first!.name},${pr.number}`).sort());

  // 10. Cut by team: Engineering counts Backend's members too. The page's merged total is the
  //     database's for those authors, and a team's page and a member's follow from the Teams tab.
  const engineers = new Set([admin.id, seeded.members[1]!.id, seeded.members[2]!.id]);
  await page.getByLabel("Team").selectOption({ label: "Engineering" });
  await page.getByRole("button", { name: "Show" }).click();
  await page.waitForURL(new RegExp(`team=${engineering.id}`));
  await expect(page.locator("table.metrics-table caption").textContent()).resolves.toContain(
    "team Engineering",
  );
  await expect(
    page.locator('table.metrics-table tfoot td[data-metric="merged"]').textContent(),
  ).resolves.toBe(String(humans.filter((pr) => engineers.has(pr.authorId!) && inRange(pr.mergedAt)).length));
  await shot("15-metrics-team");
  await page.getByRole("link", { name: "Teams", exact: true }).click();
  await page.getByRole("heading", { name: "Teams", level: 1 }).waitFor();
  expect(await page.locator("table.teams-table tbody tr").count()).toBe(4);
  await expect(
    page
      .locator(`table.teams-table tr[data-team="${engineering.id}"] td[data-metric="members"]`)
      .textContent(),
  ).resolves.toBe("3");
  await shot("16-teams");
  await page.getByRole("link", { name: "Backend", exact: true }).click();
  await page.getByRole("heading", { name: "Backend", level: 1 }).waitFor();
  await expect(page.locator("table.team-weeks tbody tr").count()).resolves.toBe(12);
  await shot("17-team");
  const member = seeded.members[1]!;
  await page.getByRole("link", { name: `@${member.login}` }).click();
  await page.getByRole("heading", { name: new RegExp(`@${member.login}`), level: 1 }).waitFor();
  await shot("18-person");

  // 11. Working hours: Monday to Thursday 10:00–16:00 with a day off in the range, saved on the
  //     settings page; the metrics page in working hours then shows the median of what Postgres
  //     works out on its own from the stored instants (support/working-hours.ts).
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByLabel("Friday").uncheck();
  await page.getByLabel("Starts at").fill("10:00");
  await page.getByLabel("Ends at").fill("16:00");
  const dayOff = weekStarts.at(-3)!;
  await page.getByLabel("Non-working dates (optional)").fill(`${dayOff}\n`);
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByText("Settings saved.").waitFor();
  await expect(page.locator(".working-time-now").textContent()).resolves.toBe(
    "Mon–Thu 10:00–16:00 UTC, excluding 1 holiday",
  );
  await shot("19-settings-working-hours");
  await app.drain();
  await page.goto(`${app.url}/installations/${seeded.installation.id}/metrics?range=26&repo=${first!.id}`);
  await page.getByRole("link", { name: "Working hours" }).click();
  await page.waitForURL(/hours=working/);
  await expect(page.locator(".working-hours-definition").textContent()).resolves.toBe(
    "Working hours: Mon–Thu 10:00–16:00 UTC, excluding 1 holiday; a duration counts only the time inside those hours.",
  );
  await shot("20-metrics-working-hours");
  const truth = await expectedWorkingHours(database.sql, seeded.installation.id, {
    timezone: "UTC",
    workDays: [1, 2, 3, 4],
    workStart: "10:00",
    workEnd: "16:00",
    holidays: [dayOff],
  });
  const mergedHere = new Set(humans.filter((pr) => inRange(pr.mergedAt)).map((pr) => pr.id));
  const cycleMedian = median(truth.filter((pr) => mergedHere.has(pr.id)).map((pr) => pr.cycle!));
  await expect(
    page.locator('table.metrics-table tfoot td[data-metric="cycle"]').getAttribute("title"),
  ).resolves.toBe(`${cycleMedian!.toFixed(2)} working hours`);
  // The toggle is remembered in the form: showing another range keeps working hours.
  await page.getByLabel("Weeks").selectOption({ label: "Last 12 weeks" });
  await page.getByRole("button", { name: "Show" }).click();
  await page.waitForURL(/range=12.*hours=working/);

  // 12. Every page on a phone's width: the page itself never scrolls sideways (wide tables scroll
  //     inside their cards).
  await page.setViewportSize({ width: 390, height: 844 });
  const installation = `/installations/${seeded.installation.id}`;
  const narrow: [string, string][] = [
    ["installations", "/"],
    ["repositories", `${installation}/repositories`],
    ["settings", `${installation}/settings`],
    ["members", `${installation}/members`],
    [
      "match-identity",
      `${installation}/members/match?identity=${encodeURIComponent(`email:${PERSONAL_EMAIL}`)}`,
    ],
    ["webhook-health", `${installation}/webhooks`],
    ["metrics", `${installation}/metrics?range=26&repo=${first!.id}`],
    ["metrics-team", `${installation}/metrics?range=26&team=${engineering.id}`],
    ["teams", `${installation}/teams`],
    ["team", `${installation}/teams/${backend.id}`],
    ["person", `${installation}/people/${seeded.members[1]!.id}`],
    ["metrics-working-hours", `${installation}/metrics?range=26&repo=${first!.id}&hours=working`],
  ];
  const overflow: Record<string, number> = {};
  const hiddenTabs: Record<string, string[]> = {};
  const measure = async (name: string) => {
    await shot(`narrow-${name}`);
    overflow[name] = await page.evaluate<number>("document.scrollingElement.scrollWidth - window.innerWidth");
    // Every tab in sight: inside the viewport's width, not scrolled out of its bar.
    hiddenTabs[name] = await page.evaluate<string[]>(`[...document.querySelectorAll("nav.tabs a")]
      .filter((tab) => { const box = tab.getBoundingClientRect(); return box.left < 0 || box.right > window.innerWidth; })
      .map((tab) => tab.textContent)`);
  };
  for (const [name, path] of narrow) {
    await page.goto(`${app.url}${path}`);
    await measure(name);
  }
  // The pattern preview: a table of titles and branch names, wider than a phone.
  await page.goto(`${app.url}${installation}/settings`);
  await page.getByRole("button", { name: /Preview on the last/ }).click();
  await page.locator("#preview").waitFor();
  await measure("settings-preview");
  const names = [...narrow.map(([name]) => name), "settings-preview"];
  expect(overflow).toEqual(Object.fromEntries(names.map((name) => [name, 0])));
  expect(hiddenTabs).toEqual(Object.fromEntries(names.map((name) => [name, []])));
  expect(failedLoads).toEqual([]);
}, 180_000);
