import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { eq } from "drizzle-orm";
import {
  listFirstWindowsPending,
  updateRepository,
  upsertRepositories,
} from "../../src/db/queries/repositories.js";
import { readAppState } from "../../src/db/queries/app-state.js";
import * as schema from "../../src/db/schema/index.js";
import { defaultInstallationSettings } from "../../src/settings.js";
import { backfillFirstWindows, firstPageSize } from "../../src/sync/first-window.js";
import { APP_ID } from "../support/app.js";
import { deliverInstallationCreated } from "../support/delivery-stream.js";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { readStoredAndTruth } from "../support/github-truth.js";
import { useTestApp } from "../support/harness.js";
import { unpacedSyncContext } from "../support/sync-context.js";
import type { GitHubClient } from "../../src/github/client.js";

// Issue 14 §3: a first backfill brings every repository's last 30 days before any repository goes
// deeper, the small windows packed many a query. The order and the points are the fake GitHub's
// own record of the queries it answered; what is stored is compared with its truth.

let github: FakeGitHub;

beforeAll(async () => {
  github = await startFakeGitHub({ seed: 14 });
  github.world.setNow(new Date());
});
const t = useTestApp(() => ({
  env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" },
  now: () => github.world.now(),
}));
afterAll(async () => {
  await github.close();
});

const DAY = 86_400_000;
const INSTALLATION_ID = 7100;
const WINDOW_QUERIES = new Set(["RepositoryWindowSizes", "RepositoriesFirstPages"]);

/** installation.created of an org whose default depth is the full history, drained. */
async function installDeep(): Promise<{
  repoIds: number[];
  operations: { name: string; cost: number; nodes: number }[];
}> {
  // Set before GitHub tells the app about the installation (upsertInstallation keeps settings):
  // every repository has history beyond its first window.
  await t.database.db.insert(schema.installations).values({
    id: INSTALLATION_ID,
    accountId: 0,
    accountLogin: `org${INSTALLATION_ID}`,
    accountType: "Organization",
    settings: { ...defaultInstallationSettings, defaultSyncDepth: "full" },
  });
  const seeded = github.world.seedOrg({
    login: `org${INSTALLATION_ID}`,
    repos: 8,
    prsPerRepo: 120,
    members: 5,
    reviewsPerPr: [0, 3],
    commitsPerPr: [1, 4],
    spanDays: 150,
    longLists: false,
    installationId: INSTALLATION_ID,
    appId: Number(APP_ID),
  });
  github.stats.reset();
  await deliverInstallationCreated(t.app, github.world, INSTALLATION_ID);
  await t.app.drain(undefined, 120_000);
  return { repoIds: seeded.repos.map((repo) => repo.id), operations: github.stats.snapshot().operations };
}

it("brings every repository's last 30 days first, packed, then the whole history exactly", async () => {
  const { repoIds, operations } = await installDeep();

  // 1. Everything stored as GitHub has it, every repository complete.
  const { stored, truth } = await readStoredAndTruth(t.database, github.world, repoIds);
  expect(stored).toEqual(truth);
  const rows = await t.database.db
    .select({ status: schema.repositories.syncStatus })
    .from(schema.repositories)
    .where(eq(schema.repositories.installationId, INSTALLATION_ID));
  expect(rows.map((row) => row.status)).toEqual(repoIds.map(() => "complete"));
  // The window counts are spent once every window is in: none is kept.
  expect(await readAppState(t.database.db, `first-window-sizes:${INSTALLATION_ID}`)).toBeUndefined();

  // 2. Each window counted once (a count a lane, each lane its share: every repository's newest
  //    40 creation times returned once; no window here holds 40, so none is counted to a hundred),
  //    then the windows, before any page of deeper history.
  const names = operations.map((operation) => operation.name);
  const lastWindow = names.findLastIndex((name) => WINDOW_QUERIES.has(name));
  const firstDeeper = names.indexOf("RepositoryPullRequests");
  const counts = operations.filter((operation) => operation.name === "RepositoryWindowSizes");
  const since = github.world.now().getTime() - 30 * DAY;
  const windows = repoIds.map(
    (id) =>
      github.world.listPullRequests(id).filter((pr) => since <= new Date(pr.createdAt).getTime()).length,
  );
  expect(Math.max(...windows)).toBeLessThan(40);
  // The repository's own node and its newest 40 pull requests' creation times.
  const newest = repoIds.map((id) => 1 + Math.min(40, github.world.listPullRequests(id).length));
  expect(counts.length).toBeLessThanOrEqual(t.app.config.syncConcurrencyPerInstallation);
  expect(counts.reduce((sum, count) => sum + count.nodes, 0)).toBe(newest.reduce((sum, n) => sum + n, 0));
  expect(names).toContain("RepositoriesFirstPages");
  expect(firstDeeper).toBeGreaterThan(lastWindow);

  // 3. The windows' points, counted by the fake: a 50-PR first page a repository (today's way)
  //    costs 2 points each, 16 here for ~180 pull requests (0.09 each). Sized to the windows and
  //    packed they cost one counting point and about one point a repository (labels, read for the
  //    exclusions, are a fourth connection per pull request: 10 points here, 9 without them).
  const windowPrs = windows.reduce((sum, prs) => sum + prs, 0);
  const points = operations
    .filter((operation) => WINDOW_QUERIES.has(operation.name))
    .reduce((sum, operation) => sum + operation.cost, 0);
  expect(windowPrs).toBeGreaterThan(150);
  expect(points).toBeLessThanOrEqual(2 + repoIds.length);
  expect(points).toBeLessThan(2 * repoIds.length);
  expect(points / windowPrs).toBeLessThanOrEqual(0.06);
});

const NOW = new Date("2026-06-30T00:00:00Z");
const WINDOW_START = new Date(NOW.getTime() - 30 * DAY);
/** `count` creation times, newest first, one every `everyDays`. */
const createdEvery = (count: number, everyDays: number) =>
  Array.from({ length: count }, (_, k) => new Date(NOW.getTime() - (k + 0.5) * everyDays * DAY));

it.each([
  ["the window and one more, when the count reaches past it", createdEvery(40, 1.5), 40, 21],
  ["the window and one more, when it is all there is", createdEvery(25, 1), 40, 26],
  ["a full page, when the newest 40 span 2 days of the 30", createdEvery(40, 0.05), 40, 100],
  ["counted again, when 40 in 20 days may not fill a page", createdEvery(40, 0.5), 40, null],
  ["a full page, when the newest hundred are all inside", createdEvery(100, 0.2), 100, 100],
])("sizes a first page from the count: %s", (_, newest, first, size) => {
  expect(firstPageSize(newest, first, WINDOW_START, NOW)).toBe(size);
});

/** An org's repositories as the installation event leaves them: listed, tracked, backfills queued. */
async function queueOrg(
  installationId: number,
  seed: { repos: number; prsPerRepo: number; prsByRepo?: number[]; spanDays: number },
  on: FakeGitHub = github,
): Promise<number[]> {
  await t.database.db.insert(schema.installations).values({
    id: installationId,
    accountId: 0,
    accountLogin: `org${installationId}`,
    accountType: "Organization",
    settings: deep,
  });
  const { repos } = on.world.seedOrg({
    login: `org${installationId}`,
    members: 3,
    installationId,
    appId: Number(APP_ID),
    ...seed,
  });
  await upsertRepositories(
    t.database.db,
    installationId,
    repos.map((repo) => ({ id: repo.id, nodeId: repo.nodeId, fullName: `${repo.ownerLogin}/${repo.name}` })),
    { track: true },
  );
  for (const repo of repos) await updateRepository(t.database.db, repo.id, { syncStatus: "queued" });
  return repos.map((repo) => repo.id);
}

const deep = { ...defaultInstallationSettings, defaultSyncDepth: "full" as const };

/** Pull requests created in the last 30 days on `on`, by repository. */
function windowsOf(on: FakeGitHub, repoIds: number[]): Map<number, number[]> {
  const since = on.world.now().getTime() - 30 * DAY;
  return new Map(
    repoIds.map((id) => [
      id,
      on.world
        .listPullRequests(id)
        .filter((pr) => since <= new Date(pr.createdAt).getTime())
        .map((pr) => pr.id)
        .sort((a, b) => a - b),
    ]),
  );
}

it("counts each window once when its first page is left to the next step", async () => {
  const installationId = 7200;
  await queueOrg(installationId, { repos: 4, prsPerRepo: 60, spanDays: 150 });
  const ctx = unpacedSyncContext(github, t, installationId, {
    settings: deep,
    now: () => github.world.now(),
  });
  github.stats.reset();

  // A lane whose slice ended before its first query of pages, then the next lane.
  await backfillFirstWindows(ctx, { lanes: 1, until: Date.now() - 1 });
  await backfillFirstWindows(ctx, { lanes: 1, until: Date.now() + 60_000 });

  const names = github.stats.snapshot().operations.map((operation) => operation.name);
  expect(names.filter((name) => name === "RepositoryWindowSizes")).toHaveLength(1);
  expect(names).toContain("RepositoriesFirstPages");
  expect(await listFirstWindowsPending(t.database.db, installationId)).toEqual([]);
});

it("sizes a long window's last page to what is left of it, not a full page past it", async () => {
  // About 150 pull requests in the last 30 days: a first page of 100, then what is left.
  const installationId = 7300;
  const [repoId] = await queueOrg(installationId, { repos: 1, prsPerRepo: 300, spanDays: 60 });
  const ctx = unpacedSyncContext(github, t, installationId, {
    settings: deep,
    now: () => github.world.now(),
  });
  github.stats.reset();

  expect(await backfillFirstWindows(ctx, { lanes: 1, until: Date.now() + 60_000 })).toBe("in");

  const window = windowsOf(github, [repoId!]).get(repoId!)!;
  const [stored] = await t.database.sql<{ prs: number }[]>`
    select count(*)::int as prs from pull_requests where repo_id = ${repoId!}`;
  const pages = github.stats.snapshot().operations.filter((op) => op.name !== "RepositoryWindowSizes");
  expect(window.length).toBeGreaterThan(120);
  expect(window.length).toBeLessThan(180);
  // Two pages, the second sized by the first's pace: a few past the window, not 100 past the page.
  expect(pages).toHaveLength(2);
  expect(stored!.prs - window.length).toBeLessThan(30);
});

it("works the step in two lanes at once, never one repository in both", async () => {
  const slow = await startFakeGitHub({ seed: 15, latency: { baseMs: 40, perNodeMs: 0 } });
  try {
    slow.world.setNow(github.world.now());
    const installationId = 7400;
    // Windows from one pull request to a page and a half, each asked for by one lane only.
    const repoIds = await queueOrg(
      installationId,
      { repos: 8, prsPerRepo: 0, prsByRepo: [300, 120, 60, 40, 20, 12, 6, 4], spanDays: 60 },
      slow,
    );
    const asked: string[] = [];
    const lane = () => {
      const ctx = unpacedSyncContext(slow, t, installationId, {
        settings: deep,
        now: () => slow.world.now(),
      });
      recordAskedRepositories(ctx.client, asked);
      return backfillFirstWindows(ctx, { lanes: 2, until: Date.now() + 60_000 });
    };

    expect(await Promise.all([lane(), lane()])).toEqual(["in", "in"]);

    // Each repository counted once to its newest 40, and again to a hundred only when its window
    // holds 40 that do not show a full page at their pace (from 40 to 80 surely); its first page
    // asked once; a long window's pages each once.
    const windows = windowsOf(slow, repoIds);
    const counted = asked.filter((entry) => entry.startsWith("count "));
    expect(counted.filter((entry) => entry.endsWith(" 40")).sort()).toEqual(
      repoIds.map((id) => `count ${nodeIdOf(slow, id)} 40`).sort(),
    );
    const recounted = counted.filter((entry) => entry.endsWith(" 100"));
    const between = repoIds.filter((id) => windows.get(id)!.length >= 40 && windows.get(id)!.length < 80);
    expect(between.length).toBeGreaterThan(0);
    expect(recounted).toEqual(expect.arrayContaining(between.map((id) => `count ${nodeIdOf(slow, id)} 100`)));
    const atLeast40 = repoIds.filter((id) => windows.get(id)!.length >= 40);
    expect(atLeast40.map((id) => `count ${nodeIdOf(slow, id)} 100`)).toEqual(
      expect.arrayContaining(recounted),
    );
    expect(new Set(recounted).size).toBe(recounted.length);
    const firstPages = asked.filter((entry) => entry.startsWith("first "));
    expect(new Set(firstPages).size).toBe(firstPages.length);
    const pages = asked.filter((entry) => entry.startsWith("page "));
    expect(new Set(pages).size).toBe(pages.length);
    // Every window stored as GitHub has it, each pull request counted once in the progress.
    await expectWindowsStored(slow, repoIds);
    expect(await listFirstWindowsPending(t.database.db, installationId)).toEqual([]);
  } finally {
    await slow.close();
  }
});

it("fetches two long windows' next pages in one query, each after its own cursor", async () => {
  const installationId = 7500;
  const { repoIds, ctx } = await twoLongWindows(installationId);
  const pairs = recordNextPages(ctx.client);
  github.stats.reset();

  expect(await backfillFirstWindows(ctx, { lanes: 1, until: Date.now() + 60_000 })).toBe("in");

  const operations = github.stats.snapshot().operations;
  const paired = operations.filter((operation) => operation.name === "RepositoriesNextPages");
  expect(paired.length).toBeGreaterThan(0);
  expect(paired).toHaveLength(pairs.length);
  // GitHub's formula over both pages: each pull requests connection, and four connections a pull
  // request asked for; the same points as the two pages apart, give or take the rounding.
  for (const [index, operation] of paired.entries()) {
    const { aFirst, bFirst } = pairs[index]!;
    expect(operation.cost).toBe(Math.max(1, Math.round((2 + 4 * (aFirst + bFirst)) / 100)));
  }
  // Every window stored as GitHub has it, each pull request counted once in the progress.
  await expectWindowsStored(github, repoIds);
  expect(await listFirstWindowsPending(t.database.db, installationId)).toEqual([]);
});

it("leaves a window GitHub did not answer for in a query of two to page alone, the other stored", async () => {
  const installationId = 7600;
  const { repoIds, ctx } = await twoLongWindows(installationId);
  const [kept, gone] = repoIds;
  // The second repository is deleted on GitHub as the first query of two pages goes out: GitHub
  // answers for the other and says NOT_FOUND for it.
  const partial = ctx.client.graphqlPartial.bind(ctx.client);
  ctx.client.graphqlPartial = ((name, variables, ...rest) => {
    if (name === "repositories-next-pages" && github.world.getRepo(gone!) !== undefined) {
      github.world.deleteRepo(gone!);
    }
    return partial(name, variables, ...rest);
  }) as typeof ctx.client.graphqlPartial;
  const goneWindow = windowsOf(github, [gone!]).get(gone!)!;
  expect(goneWindow.length).toBeGreaterThan(100);
  github.stats.reset();

  expect(await backfillFirstWindows(ctx, { lanes: 1, until: Date.now() + 60_000 })).toBe("in");

  const names = github.stats.snapshot().operations.map((operation) => operation.name);
  expect(names.filter((name) => name === "RepositoriesNextPages")).toHaveLength(1);
  // The kept window is whole; the deleted one was asked alone once (not found: left to its job,
  // which records the error), with nothing of it lost or stored twice.
  await expectWindowsStored(github, [kept!]);
  const stored = await t.database.sql<
    { id: string }[]
  >`select id from pull_requests where repo_id = ${gone!}`;
  expect(stored).toHaveLength(100);
  expect(goneWindow).toEqual(expect.arrayContaining(stored.map((row) => Number(row.id))));
  expect(names.filter((name) => name === "RepositoryPullRequests")).toHaveLength(1);
  const pending = await listFirstWindowsPending(t.database.db, installationId);
  expect(pending.map((repo) => repo.id)).toEqual([gone]);
});

it("pages both windows alone when their query of two fails", async () => {
  const installationId = 7700;
  const { repoIds, ctx } = await twoLongWindows(installationId);
  github.faults.set({ failNext: { count: 20, status: 502, match: "RepositoriesNextPages" } });
  const injectedBefore = github.faults.injected;
  github.stats.reset();
  try {
    expect(await backfillFirstWindows(ctx, { lanes: 1, until: Date.now() + 60_000 })).toBe("in");
  } finally {
    github.faults.clear();
  }

  // The query of two was sent, and failed (as GitHub's 502, again on each retry).
  expect(github.faults.injected).toBeGreaterThan(injectedBefore);
  const names = github.stats.snapshot().operations.map((operation) => operation.name);
  expect(names.filter((name) => name === "RepositoriesNextPages")).toHaveLength(0);
  expect(names.filter((name) => name === "RepositoryPullRequests").length).toBeGreaterThanOrEqual(2);
  await expectWindowsStored(github, repoIds);
  expect(await listFirstWindowsPending(t.database.db, installationId)).toEqual([]);
});

/**
 * Two repositories whose windows hold about 180 and 150 pull requests: a first page of 100 each,
 * then what is left.
 */
async function twoLongWindows(installationId: number) {
  const repoIds = await queueOrg(installationId, {
    repos: 2,
    prsPerRepo: 0,
    prsByRepo: [360, 300],
    spanDays: 60,
  });
  const ctx = unpacedSyncContext(github, t, installationId, {
    settings: deep,
    now: () => github.world.now(),
  });
  return { repoIds, ctx };
}

/** Every window of these repositories stored as `on` has it, each pull request counted once. */
async function expectWindowsStored(on: FakeGitHub, repoIds: number[]): Promise<void> {
  const windows = windowsOf(on, repoIds);
  const since = on.world.now().getTime() - 30 * DAY;
  for (const repoId of repoIds) {
    const rows = await t.database.db
      .select({ id: schema.pullRequests.id, created: schema.pullRequests.createdAt })
      .from(schema.pullRequests)
      .where(eq(schema.pullRequests.repoId, repoId));
    const inWindow = rows.filter((row) => row.created.getTime() >= since).map((row) => Number(row.id));
    expect(inWindow.sort((a, b) => a - b)).toEqual(windows.get(repoId));
    const [repo] = await t.database.db
      .select({ prsDone: schema.repositories.prsDone })
      .from(schema.repositories)
      .where(eq(schema.repositories.id, repoId));
    expect(repo!.prsDone).toBe(rows.length);
  }
}

/** The sizes each query of two next pages asked, in order, recorded on the lane's client. */
function recordNextPages(client: GitHubClient): { aFirst: number; bFirst: number }[] {
  const pairs: { aFirst: number; bFirst: number }[] = [];
  const partial = client.graphqlPartial.bind(client);
  client.graphqlPartial = ((name, variables, ...rest) => {
    if (name === "repositories-next-pages") {
      const { aFirst, bFirst } = variables as { aFirst: number; bFirst: number };
      pairs.push({ aFirst, bFirst });
    }
    return partial(name, variables, ...rest);
  }) as typeof client.graphqlPartial;
  return pairs;
}

function nodeIdOf(on: FakeGitHub, repoId: number): string {
  return on.world.getRepo(repoId)!.nodeId;
}

/**
 * Records, on the lane's own client, what each query asked about: "count <node id> <newest asked>"
 * and "first <node id>" a repository, "page <node id> <cursor>" a next page of a repository (alone
 * or two a query).
 */
function recordAskedRepositories(client: GitHubClient, asked: string[]): void {
  const partial = client.graphqlPartial.bind(client);
  const whole = client.graphql.bind(client);
  client.graphqlPartial = ((name, variables, ...rest) => {
    const { ids = [], first } = variables as { ids?: string[]; first?: number };
    if (name === "repository-window-sizes") asked.push(...ids.map((id) => `count ${id} ${first}`));
    else if (name === "repositories-next-pages") {
      const { a, aAfter, b, bAfter } = variables as Record<string, string>;
      asked.push(`page ${a} ${aAfter}`, `page ${b} ${bAfter}`);
    } else asked.push(...ids.map((id) => `first ${id}`));
    return partial(name, variables, ...rest);
  }) as typeof client.graphqlPartial;
  client.graphql = ((name, variables, ...rest) => {
    const { repoId, after } = variables as { repoId?: string; after?: string | null };
    if (name === "repository-pull-requests") asked.push(`page ${repoId} ${after ?? ""}`);
    return whole(name, variables, ...rest);
  }) as typeof client.graphql;
}
