import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { and, desc, eq, inArray, isNull } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { upsertPullRequests } from "../../src/db/queries/pull-requests.js";
import { requestDeltaSync, upsertRepositories } from "../../src/db/queries/repositories.js";
import { enqueue } from "../../src/queue/boss.js";
import { recomputeInstallation } from "../../src/sync/recompute.js";
import { APP_ID, QUICK_JOBS } from "../support/app.js";
import { deliverInstallationCreated, expectDatabaseToMatchGitHub } from "../support/delivery-stream.js";
import {
  buildWebhook,
  encodeNodeId,
  startFakeGitHub,
  type FakeGitHub,
  type Repo,
} from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";

// The nightly delta of an org with many repositories, a few of which changed, end to end: the app
// against the fake GitHub (GitHub's schema and cost formula), the database compared with the
// fake's truth, and the points counted by the fake. One clock for both: the fake's, frozen.

let github: FakeGitHub;
let nextInstallationId = 7000;

beforeAll(async () => {
  github = await startFakeGitHub({ seed: 23 });
  github.world.setNow(new Date());
});
// No test here looks at a debounced job: every drain waits for the weekly refresh at once.
// A delta sync reads the labels of at most 4 pull requests stored without them: a bound a test
// reaches with a few pull requests (2000 by default).
const t = useTestApp(() => ({
  env: { GHE_HOST: github.host, GHE_PROTOCOL: "http", ...QUICK_JOBS, MISSING_LABELS_PER_RUN: "4" },
  now: () => github.world.now(),
}));
afterAll(async () => {
  await github.close();
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function advanceClock(ms: number): Date {
  github.world.setNow(new Date(github.world.now().getTime() + ms));
  return github.world.now();
}

/**
 * An org in the fake, installed and backfilled by the app: `active` repositories with a few pull
 * requests each. Then `quiet` repositories without any, recorded as a backfill leaves an empty
 * repository (the app's GitHub client makes one GraphQL request a second: backfilling a hundred
 * repositories here would take minutes and prove nothing this file is about).
 */
async function installAndBackfill(active: number, quiet: number, beforeInstall?: (repos: Repo[]) => void) {
  const installationId = nextInstallationId++;
  const seeded = github.world.seedOrg({
    login: `night${installationId}`,
    repos: active,
    prsPerRepo: 3,
    members: 5,
    reviewsPerPr: [0, 2],
    commitsPerPr: [1, 3],
    // Inside the default 30-day backfill: the database holds every pull request.
    spanDays: 20,
    installationId,
    appId: Number(APP_ID),
  });
  beforeInstall?.(seeded.repos);
  await deliverInstallationCreated(t.app, github.world, installationId);
  await t.app.drain(undefined, 120_000);
  const empty = Array.from({ length: quiet }, (_, i) =>
    github.world.addRepo(installationId, { name: `quiet-${i}` }),
  );
  await recordBackfilledEmpty(installationId, empty);
  return { installationId, repoIds: [...seeded.repos, ...empty].map((repo) => repo.id) };
}

/** Empty repositories as the app stores them once their backfill found nothing. */
async function recordBackfilledEmpty(installationId: number, repos: Repo[]) {
  const db = t.database.db;
  const facts = repos.map((repo) => ({
    id: repo.id,
    nodeId: repo.nodeId,
    fullName: `${repo.ownerLogin}/${repo.name}`,
  }));
  await upsertRepositories(db, installationId, facts, { track: true });
  const now = github.world.now();
  await db
    .update(schema.repositories)
    .set({ syncStatus: "complete", watermark: now, lastSuccessfulSyncAt: now })
    .where(
      inArray(
        schema.repositories.id,
        repos.map((repo) => repo.id),
      ),
    );
}

/** A delta sync of these repositories, as the nightly runs it (without the repository and member syncs). */
async function runDelta(installationId: number, repoIds: number[]) {
  github.stats.reset();
  await enqueue(t.app.boss, "deltaSync", { installationId, repoIds });
  await t.app.drain(["delta-sync"], 120_000);
  const { graphql, graphqlPoints } = github.stats.snapshot();
  return { queries: graphql, points: graphqlPoints };
}

async function repositories(ids: number[]) {
  return t.database.db.select().from(schema.repositories).where(inArray(schema.repositories.id, ids));
}

const newestFirst = <T extends { createdAt: string; id: number }>(prs: readonly T[]) =>
  [...prs].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id);

/** The installation's pull requests whose labels are not known, newest first. */
async function withoutLabels(installationId: number) {
  const rows = await t.database.db
    .select({ id: schema.pullRequests.id })
    .from(schema.pullRequests)
    .where(and(eq(schema.pullRequests.installationId, installationId), isNull(schema.pullRequests.labels)))
    .orderBy(desc(schema.pullRequests.createdAt), desc(schema.pullRequests.id));
  return rows.map((row) => row.id);
}

/** Pull requests opened, over the installation's weekly rows: what its figures count. */
async function opened(installationId: number) {
  const [row] = await t.database.sql<{ opened: number }[]>`
    select coalesce(sum(prs_opened), 0)::int as opened from weekly_metrics
    where installation_id = ${installationId} and repo_id = 0 and not humans_only`;
  return row!.opened;
}

const author = () => [...github.world.users.values()].find((user) => user.type === "User")!;
const pullRequestsOf = (repoId: number) => github.world.listPullRequests(repoId);

describe("nightly delta of many repositories", () => {
  it("asks which changed a hundred at a time, fetches only what did, and stores exactly GitHub's data", async () => {
    const { installationId, repoIds } = await installAndBackfill(12, 93);
    advanceClock(8 * HOUR);
    const { world } = github;
    // The first 12 repositories have pull requests, the other 93 none.
    const [opened, reviewed, longReviews, busy, deliveredEdit, deleted, marked] = repoIds;
    const isOpen = (pr: { state: string }) => pr.state === "OPEN";
    const merged = repoIds.slice(7, 12).find((id) => pullRequestsOf(id).some(isOpen))!;
    const firstPullRequest = repoIds[60]!;

    // Overnight, none of it delivered to the app: a pull request opened; a review on an old pull
    // request and nothing else (GitHub bumps the pull request's updatedAt for it, the fake too);
    world.createPullRequest(opened!, { authorId: author().id, title: "Opened overnight" });
    world.addReview(pullRequestsOf(reviewed!)[0]!.id, { authorId: author().id, state: "APPROVED" });
    // one merged; one reviewed 101 times (past the first page of 100);
    world.mergePullRequest(pullRequestsOf(merged).find(isOpen)!.id);
    const longReviewed = pullRequestsOf(longReviews!)[1]!;
    for (let i = 0; i < 101; i++) world.addReview(longReviewed.id, { authorId: author().id });
    // a first pull request in a repository that had none;
    world.createPullRequest(firstPullRequest, { authorId: author().id, title: "The first one" });
    // a busy repository with more updated pull requests than the check lists;
    for (let i = 0; i < 11; i++) world.createPullRequest(busy!, { authorId: author().id });
    // an edit delivered, so stored as GitHub has it (nothing for the delta to repair there);
    const edited = pullRequestsOf(deliveredEdit!)[0]!;
    world.updatePullRequest(edited.id, { title: "Edited and delivered" });
    const hook = buildWebhook(world, "pull_request", "edited", { prId: edited.id });
    expect((await t.app.deliver(hook.name, hook.payload, { id: hook.id })).status).toBe(202);
    await t.app.drain(undefined, 60_000);
    // a repository deleted; and one the outage repair marked, with a pull request it missed.
    world.deleteRepo(deleted!);
    world.createPullRequest(marked!, { authorId: author().id, title: "Lost in an outage" });
    await requestDeltaSync(t.database.db, installationId, [marked!]);

    // The nightly runs an hour later.
    const night = advanceClock(HOUR);
    const first = await runDelta(installationId, repoIds);

    const present = repoIds.filter((id) => id !== deleted);
    await expectDatabaseToMatchGitHub(t.database, world, present);
    const rows = await repositories(repoIds);
    expect(rows.find((row) => row.id === deleted)).toMatchObject({
      tracked: false,
      lastErrorCode: "not_found",
    });
    expect(rows.find((row) => row.id === marked)!.deltaRequestedAt).toBeNull();
    // Drift is what webhooks missed: the new pull request; the review and the version it made; not
    // the delivered edit, nor anything in a quiet repository.
    // Every repository shows tonight's sync (the webhook health page's "what the nightly sync found").
    const drift = (id: number) => rows.find((row) => row.id === id)!.lastDriftCount;
    expect([drift(opened!), drift(reviewed!), drift(deliveredEdit!), drift(repoIds[30]!)]).toEqual([
      1, 2, 0, 0,
    ]);
    expect(rows.filter((row) => row.id !== deleted && !(row.lastSuccessfulSyncAt! >= night))).toEqual([]);
    const runs = await t.database.db
      .select({ repoId: schema.syncRuns.repoId, startedAt: schema.syncRuns.startedAt })
      .from(schema.syncRuns)
      .where(eq(schema.syncRuns.installationId, installationId));
    const tonight = runs.filter((run) => run.startedAt >= night).map((run) => run.repoId);
    expect(tonight.sort()).toEqual([...present].sort());

    // What the design costs, query by query (GitHub's formula: connections' requests / 100, at
    // least 1 point a query). Checked: 104 repositories (the marked one gets a full delta) in 2
    // queries of 100 and 4, 1 point each. Fetched by id: the 6 changed pull requests of 6
    // repositories, 1 query (18 requests, 1 point), plus the page of reviews past 100 (1 point).
    // Full deltas: the busy repository (1 page of 25, 1 point) and the marked one (1 point); the
    // deleted one asks for its page and whether GitHub still shows it, as before (2 points).
    // Today's delta was at least one query per repository: 105.
    expect(first).toEqual({ queries: 2 + 1 + 1 + 2 + 2, points: 2 + 1 + 1 + 2 + 2 });

    // A quiet night: only the check, for the 104 repositories left.
    advanceClock(DAY);
    expect(await runDelta(installationId, present)).toEqual({ queries: 2, points: 2 });
    await expectDatabaseToMatchGitHub(t.database, world, present);
  }, 300_000);

  it("fetches a pull request updated in the same second as the read before, from a backfill or a delta", async () => {
    // Half past a second: GitHub stamps whole seconds, our clock has milliseconds.
    github.world.setNow(new Date(Math.floor(Date.now() / 1000) * 1000 + 500));
    const { installationId, repoIds } = await installAndBackfill(2, 0);
    const [afterBackfill, afterDelta] = repoIds.map((id) => pullRequestsOf(id!)[0]!);
    const { world } = github;
    // Retitled just after the backfill read it, in the same second.
    world.updatePullRequest(afterBackfill!.id, { title: "Retitled as the backfill ended" });

    // An hour later a delta reads a change, and the same pull request changes again 300 ms later.
    const read = advanceClock(HOUR);
    world.updatePullRequest(afterDelta!.id, { title: "Read by the delta" });
    await runDelta(installationId, repoIds);
    github.world.setNow(new Date(read.getTime() + 300));
    world.updatePullRequest(afterDelta!.id, { title: "Retitled in the second the delta read it" });

    advanceClock(DAY);
    await runDelta(installationId, repoIds);
    await expectDatabaseToMatchGitHub(t.database, world, repoIds);
  }, 120_000);

  it("reads the labels of pull requests stored before labels were, four a run, newest first, until none is left", async () => {
    // Six pull requests; two carry skip-metrics on GitHub: the second newest and the oldest.
    let labelled: number[] = [];
    const { installationId, repoIds } = await installAndBackfill(2, 0, (repos) => {
      const prs = newestFirst(repos.flatMap((repo) => pullRequestsOf(repo.id)));
      labelled = [prs[1]!.id, prs[5]!.id];
      for (const id of labelled) github.world.setLabel(id, "skip-metrics", true);
      // Labeled long before the backfill read them: no delta takes them for changed since.
      advanceClock(HOUR);
    });
    const world = github.world;
    const prs = newestFirst(repoIds.flatMap((id) => pullRequestsOf(id)));
    // The database as a version before labels left it: every pull request without them, and one
    // that GitHub has since deleted, the newest of all.
    const db = t.database.db;
    await db
      .update(schema.pullRequests)
      .set({ labels: null })
      .where(eq(schema.pullRequests.installationId, installationId));
    const [model] = await db.select().from(schema.pullRequests).where(eq(schema.pullRequests.id, prs[0]!.id));
    const { writtenAt: _, ...row } = model!;
    const gone = 900_000_000 + installationId;
    await upsertPullRequests(db, [
      {
        ...row,
        id: gone,
        nodeId: encodeNodeId("PR", gone),
        number: 900,
        createdAt: new Date(row.createdAt.getTime() + HOUR),
      },
    ]);
    // Its figures then: labels unknown count as none, so every pull request counts.
    await recomputeInstallation(t.database, t.app.boss, installationId);
    await t.app.drain(undefined, 60_000);
    expect(await opened(installationId)).toBe(7);
    expect(await withoutLabels(installationId)).toHaveLength(7);

    // The first run reads the four newest: the deleted one is recorded without labels, the second
    // newest excluded. A query for 4 pull requests (4 connections each: 16 requests, 1 point) after
    // the check (1 query, 1 point).
    advanceClock(DAY);
    expect(await runDelta(installationId, repoIds)).toEqual({ queries: 2, points: 2 });
    await t.app.drain(undefined, 60_000);
    expect(await withoutLabels(installationId)).toEqual(prs.slice(3).map((pr) => pr.id));
    expect(await opened(installationId)).toBe(6);

    // The second run reads the other three; the oldest is excluded too.
    advanceClock(DAY);
    expect(await runDelta(installationId, repoIds)).toEqual({ queries: 2, points: 2 });
    await t.app.drain(undefined, 60_000);
    expect(await withoutLabels(installationId)).toEqual([]);
    expect(await opened(installationId)).toBe(5);
    const stored = await db
      .select({
        id: schema.pullRequests.id,
        labels: schema.pullRequests.labels,
        excludedReason: schema.pullRequests.excludedReason,
      })
      .from(schema.pullRequests)
      .where(eq(schema.pullRequests.installationId, installationId));
    const truth = [
      ...prs.map((pr) => ({
        id: pr.id,
        labels: [...pr.labels],
        excludedReason: labelled.includes(pr.id) ? "label: skip-metrics" : null,
      })),
      { id: gone, labels: [], excludedReason: null },
    ];
    const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
    expect(stored.sort(byId)).toEqual(truth.sort(byId));
    expect(labelled.map((id) => world.getPullRequest(id)!.labels)).toEqual([
      ["skip-metrics"],
      ["skip-metrics"],
    ]);
    // The rest as GitHub has it (the deleted one aside, which the fake never had).
    await expectDatabaseToMatchGitHub(
      t.database,
      world,
      repoIds.filter((id) => id !== row.repoId),
    );

    // Nothing left: the third run is the check alone.
    advanceClock(DAY);
    expect(await runDelta(installationId, repoIds)).toEqual({ queries: 1, points: 1 });
  }, 120_000);

  it("reads no labels below the rate-limit reserve: the job ends synced, the next run reads them", async () => {
    // The app's GitHub client believes its reserve until the hour's reset, which the fake counts on
    // the real clock: the frozen one stays within that hour (earlier tests moved it days on).
    github.world.setNow(new Date(Date.now() - HOUR));
    // Seeded an hour before the backfill reads them: no delta takes them for changed since.
    const { installationId, repoIds } = await installAndBackfill(2, 0, () => advanceClock(HOUR));
    await t.database.db
      .update(schema.pullRequests)
      .set({ labels: null })
      .where(eq(schema.pullRequests.installationId, installationId));
    advanceClock(2 * MINUTE);
    // One point above the reserve (10% of 5000): the check spends it.
    const { remaining } = github.rateLimits.peek(installationId, "graphql");
    github.rateLimits.take(installationId, "graphql", remaining - 501);

    expect(await runDelta(installationId, repoIds)).toEqual({ queries: 1, points: 1 });
    expect(await withoutLabels(installationId)).toHaveLength(6);
    const jobs = await t.app.jobs("delta-sync");
    // Nothing queued for the reset: the repositories are synced, and the labels wait for the next run.
    expect(jobs.map((job) => job.state)).toEqual(["completed"]);

    github.rateLimits.reset();
    advanceClock(2 * MINUTE);
    expect(await runDelta(installationId, repoIds)).toEqual({ queries: 2, points: 2 });
    expect(await withoutLabels(installationId)).toHaveLength(2);
  }, 120_000);

  it("a rate limit after the check queues the repositories not done yet for the reset; the resumed run completes them", async () => {
    const { installationId, repoIds } = await installAndBackfill(2, 3);
    advanceClock(HOUR);
    const [changed] = repoIds;
    github.world.createPullRequest(changed!, { authorId: author().id, title: "Waits for the budget" });
    advanceClock(HOUR);
    // One point left: the check spends it; fetching the changed pull request must wait.
    const { remaining } = github.rateLimits.peek(installationId, "graphql");
    github.rateLimits.take(installationId, "graphql", remaining - 1);

    const tonight = advanceClock(HOUR);
    expect((await runDelta(installationId, repoIds)).points).toBe(1);
    const [resumed] = await t.database.sql<{ data: { repoIds: number[] }; deferred: boolean }[]>`
      select data, start_after > now() + interval '1 minute' as deferred
      from pgboss.job where name = 'delta-sync' and state = 'created'`;
    // The quiet repositories are synced; the changed one is left for the reset.
    expect(resumed).toEqual({ data: { installationId, repoIds: [changed] }, deferred: true });
    const rows = await repositories(repoIds);
    expect(
      rows
        .filter((row) => row.lastSuccessfulSyncAt! >= tonight)
        .map((row) => row.id)
        .sort(),
    ).toEqual(repoIds.slice(1).sort());

    // The hour is over.
    github.rateLimits.reset();
    await t.database
      .sql`update pgboss.job set start_after = now() where name = 'delta-sync' and state = 'created'`;
    await t.app.drain(["delta-sync"], 60_000);
    await expectDatabaseToMatchGitHub(t.database, github.world, repoIds);
  }, 120_000);
});
