import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { eq, inArray } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { APP_ID } from "../support/app.js";
import { Browser } from "../support/browser.js";
import { encodeNodeId, startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";
import { signedIn, type TestSession } from "../support/session.js";

// The repositories page against the fake GitHub (membership checks, estimates). Jobs are not
// worked here: the tests look at what the forms queued.

let github: FakeGitHub;
let nextOrg = 1;
beforeAll(async () => {
  github = await startFakeGitHub({ seed: 21 });
});
const t = useTestApp(() => ({ env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" }, queues: [] }));
afterAll(async () => {
  await github.close();
});

interface Setup {
  installationId: number;
  repoIds: number[];
  browser: Browser;
  session: TestSession;
}

/**
 * An org on the fake GitHub with three repositories (the first tracked and synced, the others not),
 * stored as the App would have stored them, and its admin signed in.
 */
async function setUp(options: { repoName?: string; prsPerRepo?: number } = {}): Promise<Setup> {
  const login = `org-${nextOrg++}`;
  const seeded = github.world.seedOrg({
    login,
    repos: 3,
    prsPerRepo: options.prsPerRepo ?? 40,
    members: 3,
    spanDays: 120,
    appId: Number(APP_ID),
  });
  const admin = seeded.members[0]!;
  github.oauth.setRole(login, admin.login, "admin");
  await t.database.db.insert(schema.installations).values({
    id: seeded.installation.id,
    accountId: seeded.org.id,
    accountLogin: login,
    accountType: "Organization",
  });
  await t.database.db.insert(schema.repositories).values(
    seeded.repos.map((repo, index) => ({
      id: repo.id,
      installationId: seeded.installation.id,
      nodeId: repo.nodeId,
      fullName: index === 2 && options.repoName ? options.repoName : `${login}/${repo.name}`,
      tracked: index === 0,
      syncStatus: index === 0 ? ("complete" as const) : ("pending" as const),
      watermark: index === 0 ? new Date() : null,
      backfilledSince: index === 0 ? new Date(Date.now() - 30 * 86_400_000) : null,
      lastActivityAt: new Date(Date.now() - index * 3600_000),
    })),
  );
  const session = await signedIn(t.database, t.app.server, {
    userId: admin.id,
    login: admin.login,
    installationIds: [seeded.installation.id],
  });
  return {
    installationId: seeded.installation.id,
    repoIds: seeded.repos.map((repo) => repo.id),
    browser: new Browser(t.app.url, session.cookie),
    session,
  };
}

/** The fake's truth: pull requests created from `fromDays` ago up to `untilDays` ago (or now). */
function createdBetween(repoId: number, fromDays: number, untilDays = 0): number {
  const from = Date.now() - fromDays * 86_400_000;
  const until = Date.now() - untilDays * 86_400_000;
  return github.world.listPullRequests(repoId).filter((pr) => {
    const created = new Date(pr.createdAt).getTime();
    return created >= from && created < until;
  }).length;
}

const repository = async (id: number) =>
  (await t.database.db.select().from(schema.repositories).where(eq(schema.repositories.id, id)))[0]!;

describe("the list", () => {
  it("shows every repository, most recently active first, with its status", async () => {
    const { installationId, browser } = await setUp();
    const page = await browser.get(`/installations/${installationId}/repositories`);
    expect(page.status).toBe(200);
    const names = [...page.body.matchAll(/<span class="repo-name">([^<]+)<\/span>/g)].map((m) => m[1]);
    expect(names).toHaveLength(3);
    expect(page.body).toContain("Up to date");
    expect(page.body).toContain("Not tracked");
    // Nothing runs: the rows are not polled.
    expect(page.body).not.toContain('hx-trigger="every');
  });

  it("says how to start while nothing is tracked, and stops saying it once something is", async () => {
    const { installationId, browser, repoIds } = await setUp();
    const withOne = await browser.get(`/installations/${installationId}/repositories`);
    expect(withOne.body).not.toContain("Nothing is tracked yet");
    await t.database.db
      .update(schema.repositories)
      .set({ tracked: false })
      .where(eq(schema.repositories.id, repoIds[0]!));
    const withNone = await browser.get(`/installations/${installationId}/repositories`);
    expect(withNone.body).toContain("Nothing is tracked yet");
    expect(withNone.body).toContain(`href="/installations/${installationId}/settings"`);
  });

  it("searches by name and filters by tracking", async () => {
    const { installationId, browser, repoIds } = await setUp();
    const tracked = await repository(repoIds[0]!);
    const byName = await browser.get(
      `/installations/${installationId}/repositories?q=${tracked.fullName.split("/")[1]}`,
    );
    expect(byName.body).toContain(tracked.fullName);
    expect([...byName.body.matchAll(/class="repo-name"/g)]).toHaveLength(1);
    const untracked = await browser.get(`/installations/${installationId}/repositories?filter=untracked`);
    expect(untracked.body).not.toContain(`>${tracked.fullName}<`);
    expect([...untracked.body.matchAll(/class="repo-name"/g)]).toHaveLength(2);
  });

  it("escapes markup in a repository name", async () => {
    const { installationId, browser } = await setUp({ repoName: 'acme/<img src=x onerror="alert(1)">' });
    const page = await browser.get(`/installations/${installationId}/repositories`);
    expect(page.body).toContain("acme/&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(page.body).not.toContain("<img src=x");
  });

  it("polls the rows while a repository syncs, and shows its progress and ETA", async () => {
    const { installationId, browser, repoIds } = await setUp();
    await t.database.db
      .update(schema.repositories)
      .set({
        syncStatus: "syncing",
        prsDone: 250,
        prsTotal: 1000,
        syncStartedAt: new Date(Date.now() - 600_000),
      })
      .where(eq(schema.repositories.id, repoIds[0]!));
    const page = await browser.get(`/installations/${installationId}/repositories`);
    expect(page.body).toContain(`hx-get="/installations/${installationId}/repositories/rows"`);
    expect(page.body).toContain('<progress max="100" value="25"');
    expect(page.body).toMatch(/250 of 1,000 pull requests · about (29|30|31) minutes left/);
    const rows = await browser.get(`/installations/${installationId}/repositories/rows`);
    expect(rows.status).toBe(200);
    expect(rows.body.startsWith('<tbody id="repository-rows"')).toBe(true);
  });
});

describe("tracking", () => {
  it("shows the estimate first, then tracks and queues the backfill", async () => {
    const { installationId, browser, session, repoIds } = await setUp();
    const ask = await browser.post(`/installations/${installationId}/repositories/track`, {
      _csrf: session.csrfToken,
      repoIds: [String(repoIds[1])],
    });
    expect(ask.status).toBe(200);
    // Pull requests created in the default 30-day window, counted exactly.
    expect(ask.body).toContain(`<strong>${createdBetween(repoIds[1]!, 30)}</strong>`);
    expect((await repository(repoIds[1]!)).tracked).toBe(false);

    const done = await browser.post(`/installations/${installationId}/repositories/track`, {
      _csrf: session.csrfToken,
      repoIds: [String(repoIds[1])],
      confirm: "1",
    });
    expect(done.status).toBe(303);
    expect(await repository(repoIds[1]!)).toMatchObject({ tracked: true, syncStatus: "queued" });
    expect((await t.app.jobs("backfill")).map((job) => job.data)).toEqual([
      { installationId, repoId: repoIds[1] },
    ]);
    const back = await browser.get(done.location!);
    expect(back.body).toContain("1 repository is now tracked");
  });

  it("names a repository GitHub did not answer for in the estimate, and counts the others", async () => {
    const { installationId, browser, session, repoIds } = await setUp();
    await t.database.db
      .update(schema.repositories)
      .set({ nodeId: encodeNodeId("R", 987_654_321) })
      .where(eq(schema.repositories.id, repoIds[2]!));
    const ask = await browser.post(`/installations/${installationId}/repositories/track`, {
      _csrf: session.csrfToken,
      repoIds: [String(repoIds[1]), String(repoIds[2])],
    });
    expect(ask.status).toBe(200);
    expect(ask.body).toContain("GitHub did not answer for 1 repository; its pull requests are not counted.");
    expect(ask.body).toContain(`<td class="num">not answered</td>`);
    expect(ask.body).toContain(`<strong>about ${createdBetween(repoIds[1]!, 30)}</strong>`);
  });

  it("stops tracking, keeping the data when asked to", async () => {
    const { installationId, browser, session, repoIds } = await setUp();
    await insertPullRequest(installationId, repoIds[0]!);
    const ask = await browser.post(`/installations/${installationId}/repositories/untrack`, {
      _csrf: session.csrfToken,
      repoIds: [String(repoIds[0])],
    });
    expect(ask.body).toContain('name="data" value="keep"');
    // Confirmed without choosing: asked again, nothing changed.
    const unchosen = await browser.post(`/installations/${installationId}/repositories/untrack`, {
      _csrf: session.csrfToken,
      repoIds: [String(repoIds[0])],
      confirm: "1",
    });
    expect(unchosen.status).toBe(400);
    expect((await repository(repoIds[0]!)).tracked).toBe(true);

    await browser.post(`/installations/${installationId}/repositories/untrack`, {
      _csrf: session.csrfToken,
      repoIds: [String(repoIds[0])],
      confirm: "1",
      data: "keep",
    });
    expect((await repository(repoIds[0]!)).tracked).toBe(false);
    expect(await t.database.db.select().from(schema.pullRequests)).toHaveLength(1);
    // The weeks it counted in are refreshed without it.
    expect(await t.database.db.select().from(schema.weeklyMetricsPending)).not.toHaveLength(0);
    expect(await t.app.jobs("weekly-metrics")).toHaveLength(1);
  });

  it("stops tracking and deletes the data when asked to", async () => {
    const { installationId, browser, session, repoIds } = await setUp();
    await insertPullRequest(installationId, repoIds[0]!);
    await browser.post(`/installations/${installationId}/repositories/untrack`, {
      _csrf: session.csrfToken,
      repoIds: [String(repoIds[0])],
      confirm: "1",
      data: "delete",
    });
    expect(await repository(repoIds[0]!)).toMatchObject({
      tracked: false,
      syncStatus: "pending",
      watermark: null,
    });
    expect(await t.database.db.select().from(schema.pullRequests)).toHaveLength(0);
  });

  it("ignores repositories of another installation in a forged form", async () => {
    const mine = await setUp();
    const theirs = await setUp();
    const page = await mine.browser.post(`/installations/${mine.installationId}/repositories/track`, {
      _csrf: mine.session.csrfToken,
      repoIds: [String(theirs.repoIds[1])],
      confirm: "1",
    });
    expect(page.status).toBe(303);
    expect((await repository(theirs.repoIds[1]!)).tracked).toBe(false);
    expect(await t.app.jobs("backfill")).toHaveLength(0);
  });

  it("answers an empty selection with a message", async () => {
    const { installationId, browser, session } = await setUp();
    const page = await browser.post(`/installations/${installationId}/repositories/track`, {
      _csrf: session.csrfToken,
    });
    expect(page.status).toBe(303);
    const back = await browser.get(page.location!);
    expect(back.body).toContain("Select the repositories to track first.");
  });

  it.each<[string, Record<string, string | string[]>]>([
    ["an id that is not a number", { repoIds: "abc" }],
    ["a negative id", { repoIds: "-4" }],
    ["an id beyond any integer", { repoIds: "99999999999999999999" }],
  ])("answers %s with a 400 that names the field, never a 500", async (_name, fields) => {
    const { installationId, browser, session } = await setUp();
    const page = await browser.post(`/installations/${installationId}/repositories/track`, {
      _csrf: session.csrfToken,
      ...fields,
    });
    expect(page.status).toBe(400);
    expect(page.body).toContain("repoIds.0: Expected a positive integer id.");
    expect(await t.app.jobs("backfill")).toHaveLength(0);
  });
});

describe("sync depth", () => {
  it("asks before going further back, then queues a backfill of the older window", async () => {
    const { installationId, browser, session, repoIds } = await setUp();
    const path = `/installations/${installationId}/repositories/${repoIds[0]}/depth`;
    const ask = await browser.post(path, { _csrf: session.csrfToken, depth: "90d" });
    expect(ask.status).toBe(200);
    expect(ask.body).toContain("Sync ");
    expect(ask.body).toContain("further back?");
    // Only the window between 90 and 30 days ago is fetched: the newest 40 reach past it, exact.
    expect(ask.body).toContain(`<strong>${createdBetween(repoIds[0]!, 90, 30)}</strong>`);

    const done = await browser.post(path, { _csrf: session.csrfToken, depth: "90d", confirm: "1" });
    expect(done.status).toBe(303);
    expect(await repository(repoIds[0]!)).toMatchObject({ syncDepth: "90d", syncStatus: "queued" });
    expect(await t.app.jobs("backfill")).toHaveLength(1);
  });

  it("says about for a window older than the newest hundred pull requests", async () => {
    // 300 pull requests over 120 days: the newest hundred reach back about 40 days, not 90.
    const { installationId, browser, session, repoIds } = await setUp({ prsPerRepo: 300 });
    const ask = await browser.post(`/installations/${installationId}/repositories/${repoIds[0]}/depth`, {
      _csrf: session.csrfToken,
      depth: "90d",
    });
    expect(ask.status).toBe(200);
    const about = /<strong>about (\d+)<\/strong>/.exec(ask.body);
    expect(about).not.toBeNull();
    // Extrapolated from the newest hundred's rate: near the truth.
    const truth = createdBetween(repoIds[0]!, 90, 30);
    expect(Math.abs(Number(about![1]) - truth)).toBeLessThanOrEqual(truth * 0.2);
  });

  it("sets a shorter depth without fetching anything", async () => {
    const { installationId, browser, session, repoIds } = await setUp();
    const done = await browser.post(`/installations/${installationId}/repositories/${repoIds[0]}/depth`, {
      _csrf: session.csrfToken,
      depth: "30d",
    });
    expect(done.status).toBe(303);
    expect(await repository(repoIds[0]!)).toMatchObject({ syncDepth: "30d", syncStatus: "complete" });
    expect(await t.app.jobs("backfill")).toHaveLength(0);
  });

  it("refuses a depth that is not offered", async () => {
    const { installationId, browser, session, repoIds } = await setUp();
    const done = await browser.post(`/installations/${installationId}/repositories/${repoIds[0]}/depth`, {
      _csrf: session.csrfToken,
      depth: "7d",
    });
    expect(done.status).toBe(400);
    expect(done.body).toContain("depth: Choose one of the offered depths.");
    expect((await repository(repoIds[0]!)).syncDepth).toBeNull();
  });
});

describe("sync now", () => {
  it("queues a sync, then shows the cooldown instead of a second button", async () => {
    const { installationId, browser, session, repoIds } = await setUp();
    const path = `/installations/${installationId}/repositories/${repoIds[0]}/sync`;
    const first = await browser.post(path, { _csrf: session.csrfToken });
    expect(first.status).toBe(303);
    expect(await t.app.jobs("delta-sync")).toHaveLength(1);
    const page = await browser.get(`/installations/${installationId}/repositories`);
    expect(page.body).toMatch(/Requested; again in about \d+ minutes/);
    const second = await browser.post(path, { _csrf: session.csrfToken });
    expect((await browser.get(second.location!)).body).toContain("was synced on request moments ago");
    expect(await t.app.jobs("delta-sync")).toHaveLength(1);
  });
});

async function insertPullRequest(installationId: number, repoId: number) {
  await t.database.db.insert(schema.pullRequests).values({
    installationId,
    id: repoId * 10,
    repoId,
    number: 1,
    title: "A change",
    state: "merged",
    headRef: "x",
    baseRef: "main",
    createdAt: new Date("2024-05-01T10:00:00Z"),
    updatedAt: new Date("2024-05-02T10:00:00Z"),
    mergedAt: new Date("2024-05-02T10:00:00Z"),
  });
  await t.database.db
    .delete(schema.weeklyMetricsPending)
    .where(inArray(schema.weeklyMetricsPending.installationId, [installationId]));
}
