import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { and, asc, eq, inArray } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { enqueue } from "../../src/queue/boss.js";
import { requestSyncNow, SyncNowTooSoonError } from "../../src/sync/sync-now.js";
import { APP_ID, QUICK_JOBS } from "../support/app.js";
import { deliverInstallationCreated } from "../support/delivery-stream.js";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { requestDeltaSync } from "../../src/db/queries/repositories.js";
import { useTestApp } from "../support/harness.js";
import { waitFor } from "../support/wait.js";

// The sync engine end to end: the app runs against the fake GitHub (as GHES) with every worker,
// and the database is compared with the fake's truth. One clock for both: the fake's, frozen, so
// the windows the tests expect are the very windows the app computed.

let github: FakeGitHub;
let nextInstallationId = 5000;

beforeAll(async () => {
  github = await startFakeGitHub({ seed: 11 });
  github.world.setNow(new Date());
});
const t = useTestApp(() => ({
  env: { GHE_HOST: github.host, GHE_PROTOCOL: "http", ...QUICK_JOBS },
  now: () => github.world.now(),
}));
afterAll(async () => {
  await github.close();
});

const DAY = 86_400_000;
const ALL_QUEUES = undefined;

/** `days` before the shared clock. */
const daysAgo = (days: number) => new Date(github.world.now().getTime() - days * DAY);

/** A fresh org in the fake, installed through a real installation.created delivery. */
async function install(options: {
  prsPerRepo: number;
  repos?: number;
  spanDays?: number;
  longLists?: boolean;
}) {
  const installationId = nextInstallationId++;
  const seeded = github.world.seedOrg({
    login: `org${installationId}`,
    repos: options.repos ?? 1,
    prsPerRepo: options.prsPerRepo,
    members: 5,
    reviewsPerPr: [0, 3],
    commitsPerPr: [1, 4],
    spanDays: options.spanDays ?? 120,
    longLists: options.longLists ?? false,
    installationId,
    appId: Number(APP_ID),
  });
  await deliverInstallationCreated(t.app, github.world, installationId);
  return seeded;
}

function truthFor(repoIds: number[], since: Date | null) {
  return repoIds
    .flatMap((id) => github.world.listPullRequests(id))
    .filter((pr) => !since || new Date(pr.createdAt) >= since);
}

async function storedPullRequests(installationId: number) {
  return t.database.db
    .select()
    .from(schema.pullRequests)
    .where(eq(schema.pullRequests.installationId, installationId))
    .orderBy(asc(schema.pullRequests.id));
}

/** The stored pull requests of the installation are exactly these, each equal to GitHub's. */
async function expectMatchesTruth(installationId: number, prs: ReturnType<typeof truthFor>) {
  const stored = await storedPullRequests(installationId);
  expect(stored.map((row) => row.id).sort()).toEqual(prs.map((pr) => pr.id).sort());
  await expectStoredAsOnGitHub(installationId, prs);
}

async function expectStoredAsOnGitHub(installationId: number, prs: ReturnType<typeof truthFor>) {
  const stored = await storedPullRequests(installationId);
  for (const pr of prs) {
    const row = stored.find((candidate) => candidate.id === pr.id)!;
    expect({
      title: row.title,
      updatedAt: row.updatedAt,
      mergedAt: row.mergedAt,
      commits: row.commitsCount,
    }).toEqual({
      title: pr.title,
      updatedAt: new Date(pr.updatedAt),
      mergedAt: pr.mergedAt ? new Date(pr.mergedAt) : null,
      commits: pr.commits.length,
    });
    const reviews = await t.database.db
      .select()
      .from(schema.reviews)
      .where(eq(schema.reviews.pullRequestId, pr.id));
    expect(reviews.map((review) => review.id).sort()).toEqual(
      pr.reviews
        .filter((review) => review.state !== "PENDING")
        .map((review) => review.id)
        .sort(),
    );
    const commits = await t.database.db
      .select()
      .from(schema.commits)
      .where(eq(schema.commits.pullRequestId, pr.id));
    expect(commits.length).toBe(Math.min(250, pr.commits.length));
  }
}

async function repository(id: number) {
  const [row] = await t.database.db.select().from(schema.repositories).where(eq(schema.repositories.id, id));
  return row!;
}

describe("backfill", () => {
  it("brings in the default 30 days with every review and commit, then marks the repository complete", async () => {
    const { installation, repos } = await install({ prsPerRepo: 120, longLists: true });
    await t.app.drain(ALL_QUEUES, 120_000);
    const since = daysAgo(30);
    await expectMatchesTruth(installation.id, truthFor([repos[0]!.id], since));
    const repo = await repository(repos[0]!.id);
    expect(repo).toMatchObject({
      syncStatus: "complete",
      prsDone: truthFor([repos[0]!.id], since).length,
      failureCount: 0,
    });
    expect(repo.watermark).toBeInstanceOf(Date);
    // Covered back to the 30-day cutoff (not to the beginning of the repository's history).
    expect(repo.backfilledSince).toEqual(since);
    const [notified] = await t.database.db
      .select({ at: schema.installations.firstBackfillNotifiedAt })
      .from(schema.installations)
      .where(eq(schema.installations.id, installation.id));
    expect(notified!.at).toBeInstanceOf(Date);
  }, 150_000);

  it("deepening the depth fetches only the missing window", async () => {
    // ~3 pull requests a day: the newest page of the first backfill lies well inside 30 days.
    const { installation, repos } = await install({ prsPerRepo: 600, spanDays: 200 });
    await t.app.drain(ALL_QUEUES, 120_000);
    const repoId = repos[0]!.id;
    // Forget the newest ten days: a deepening that started over from the top would bring them back.
    const tenDaysAgo = daysAgo(10);
    const recent = truthFor([repoId], tenDaysAgo).map((pr) => pr.id);
    await t.database.db.delete(schema.pullRequests).where(inArray(schema.pullRequests.id, recent));

    await t.database.db
      .update(schema.repositories)
      .set({ syncDepth: "180d" })
      .where(eq(schema.repositories.id, repoId));
    await enqueue(t.app.boss, "backfillRepo", { installationId: installation.id, repoId });
    await t.app.drain(ALL_QUEUES, 120_000);

    const expected = truthFor([repoId], daysAgo(180)).filter((pr) => !recent.includes(pr.id));
    await expectMatchesTruth(installation.id, expected);
    expect(await repository(repoId)).toMatchObject({ syncStatus: "complete" });
  }, 150_000);

  it("deepening 30 to 60 days counts each pull request of the window once", async () => {
    // ~3 pull requests a day, so the page that crossed the 30-day cutoff also held newer ones.
    const { installation, repos } = await install({ prsPerRepo: 360, spanDays: 120 });
    await t.app.drain(ALL_QUEUES, 120_000);
    const repoId = repos[0]!.id;
    const thirtyDays = truthFor([repoId], daysAgo(30)).length;
    expect(await repository(repoId)).toMatchObject({ prsDone: thirtyDays, prsTotal: thirtyDays });

    await t.database.db
      .update(schema.repositories)
      .set({ syncDepth: "60d" })
      .where(eq(schema.repositories.id, repoId));
    await enqueue(t.app.boss, "backfillRepo", { installationId: installation.id, repoId });
    await t.app.drain(ALL_QUEUES, 120_000);

    const sixtyDays = truthFor([repoId], daysAgo(60)).length;
    expect(await repository(repoId)).toMatchObject({
      syncStatus: "complete",
      prsDone: sixtyDays,
      prsTotal: sixtyDays,
    });
    await expectMatchesTruth(installation.id, truthFor([repoId], daysAgo(60)));
  }, 150_000);

  it("a backfill with nothing left to fetch (depth shortened) leaves the repository complete", async () => {
    const { installation, repos } = await install({ prsPerRepo: 30 });
    await t.app.drain(ALL_QUEUES, 60_000);
    const repoId = repos[0]!.id;
    github.stats.reset();
    await t.database.db
      .update(schema.repositories)
      .set({ syncDepth: "30d" })
      .where(eq(schema.repositories.id, repoId));
    await enqueue(t.app.boss, "backfillRepo", { installationId: installation.id, repoId });
    await t.app.drain(ALL_QUEUES, 60_000);
    expect(await repository(repoId)).toMatchObject({ syncStatus: "complete" });
    expect(github.stats.snapshot().graphql).toBe(0);
  }, 60_000);

  it("pauses on an exhausted rate limit instead of failing, and shows until when", async () => {
    const { repos } = await install({ prsPerRepo: 60 });
    // Exhaust this installation's GraphQL budget before the backfill starts.
    const installationId = nextInstallationId - 1;
    github.rateLimits.take(installationId, "graphql", 5000);
    await t.app.drain(["process-webhook", "sync-repositories"], 60_000);
    await waitFor(async () => (await repository(repos[0]!.id)).syncStatus === "paused_rate_limited", {
      what: "the backfill to pause",
    });
    const repo = await repository(repos[0]!.id);
    expect(repo.pausedUntil!.getTime()).toBeGreaterThan(Date.now());
    const [requeued] = await t.database.sql<{ start_after: Date }[]>`
      select start_after from pgboss.job where name = 'backfill' and state = 'created'`;
    expect(requeued).toBeDefined();
  }, 60_000);
});

describe("faults", () => {
  it("completes a backfill through injected 502s, 504s and secondary rate limits", async () => {
    // About a third of all requests fail, and the first two GraphQL queries certainly do. The fault
    // stream is seeded, but how many requests the run makes depends on timing, so only the two
    // certain failures are counted on.
    github.faults.set({
      serverErrorRate: 0.2,
      gatewayTimeoutRate: 0.1,
      secondaryLimitRate: 0.1,
      failNext: { count: 2, status: 502, match: "graphql" },
    });
    const injectedBefore = github.faults.injected;
    try {
      const { installation, repos } = await install({
        prsPerRepo: 300,
        repos: 3,
        spanDays: 60,
        longLists: true,
      });
      const repoIds = repos.map((repo) => repo.id);
      await waitFor(
        async () => {
          const statuses = await Promise.all(repoIds.map(async (id) => (await repository(id))?.syncStatus));
          return statuses.every((status) => status === "complete");
        },
        { timeoutMs: 120_000, what: "every repository to complete" },
      );
      expect(github.faults.injected - injectedBefore).toBeGreaterThanOrEqual(2);
      github.faults.clear();
      await t.app.drain(["process-webhook", "backfill", "sync-repositories"], 60_000);
      await expectMatchesTruth(installation.id, truthFor(repoIds, daysAgo(30)));
    } finally {
      github.faults.clear();
    }
  }, 150_000);
});

describe("delta sync", () => {
  it("repairs what webhooks missed, counts the drift, and costs one check for unchanged repositories", async () => {
    const { installation, repos } = await install({ prsPerRepo: 40, repos: 2 });
    await t.app.drain(ALL_QUEUES, 120_000);
    const [changedRepo, quietRepo] = repos;
    // A night of missed webhooks on one repository, an hour later.
    github.world.setNow(new Date(github.world.now().getTime() + 3600_000));
    const author = [...github.world.users.values()].find((user) => user.type === "User")!;
    const created = github.world.createPullRequest(changedRepo!.id, {
      authorId: author.id,
      title: "Missed while offline",
    });
    const old = github.world
      .listPullRequests(changedRepo!.id)
      .find((pr) => pr.state === "OPEN" && pr.id !== created.id)!;
    github.world.addReview(old.id, { authorId: author.id, state: "APPROVED" });

    // The nightly runs an hour later (a change in the minute before a sync is fetched again the
    // next night: src/sync/watermark.ts).
    github.world.setNow(new Date(github.world.now().getTime() + 3600_000));
    github.stats.reset();
    await runDelta(installation.id, [changedRepo!.id, quietRepo!.id]);
    const byRoute = github.stats.snapshot();
    await expectStoredAsOnGitHub(installation.id, [created, old]);
    const changed = await repository(changedRepo!.id);
    expect(changed.lastDriftCount).toBeGreaterThanOrEqual(3);
    const quiet = await repository(quietRepo!.id);
    expect(quiet.lastDriftCount).toBe(0);
    // One query asks which of the two changed, one more fetches the changed pull requests by id.
    expect(byRoute.graphql).toBe(2);

    // A second night with nothing new: the one check.
    github.world.setNow(new Date(github.world.now().getTime() + DAY));
    github.stats.reset();
    await runDelta(installation.id, [changedRepo!.id, quietRepo!.id]);
    expect(github.stats.snapshot().graphql).toBe(1);
    expect((await repository(changedRepo!.id)).lastDriftCount).toBe(0);
  }, 150_000);
});

describe("delta sync requested after an outage", () => {
  it("a repository marked for a delta is synced by a delta queued for others, and its mark cleared", async () => {
    const { installation, repos } = await install({ prsPerRepo: 10, repos: 2 });
    await t.app.drain(ALL_QUEUES, 120_000);
    const [marked, other] = repos;
    github.world.setNow(new Date(github.world.now().getTime() + 3600_000));
    const author = [...github.world.users.values()].find((user) => user.type === "User")!;
    const missed = github.world.createPullRequest(marked!.id, {
      authorId: author.id,
      title: "Lost in the outage",
    });
    // What the recovery scan does for the repository's lost deliveries (src/webhooks/recovery.ts);
    // the delta it queues for them was folded into one already queued for another repository.
    await requestDeltaSync(t.database.db, installation.id, [marked!.id]);
    await runDelta(installation.id, [other!.id]);
    await expectStoredAsOnGitHub(installation.id, [missed]);
    expect((await repository(marked!.id)).deltaRequestedAt).toBeNull();
  }, 150_000);

  it("a repository marked while its backfill runs gets its delta when the backfill completes", async () => {
    const { installation, repos } = await install({ prsPerRepo: 10 });
    await t.app.drain(ALL_QUEUES, 120_000);
    const repo = repos[0]!;
    github.world.setNow(new Date(github.world.now().getTime() + 3600_000));
    const changed = github.world.listPullRequests(repo.id)[0]!;
    github.world.updatePullRequest(changed.id, { title: "Renamed during the outage" });
    // The backfill's last slice is still to run when the outage's deliveries are found.
    await t.database.sql`update repositories set sync_status = 'syncing' where id = ${repo.id}`;
    await requestDeltaSync(t.database.db, installation.id, [repo.id]);
    await enqueue(t.app.boss, "backfillRepo", { installationId: installation.id, repoId: repo.id });
    await t.app.drain(ALL_QUEUES, 60_000);
    await expectStoredAsOnGitHub(installation.id, [github.world.getPullRequest(changed.id)!]);
    expect((await repository(repo.id)).deltaRequestedAt).toBeNull();
  }, 150_000);
});

describe("sync now", () => {
  it("refuses a second request within the cooldown", async () => {
    const { installation } = await install({ prsPerRepo: 5 });
    await t.app.drain(ALL_QUEUES, 60_000);
    await requestSyncNow(t.database, t.app.boss, { installationId: installation.id });
    await expect(
      requestSyncNow(t.database, t.app.boss, { installationId: installation.id }),
    ).rejects.toBeInstanceOf(SyncNowTooSoonError);
  }, 60_000);
});

describe("members sync", () => {
  it("stores the organization's members by id and keeps leavers inactive", async () => {
    const { installation, members } = await install({ prsPerRepo: 3 });
    await t.app.drain(ALL_QUEUES, 60_000);
    const stored = await t.database.db
      .select()
      .from(schema.members)
      .where(eq(schema.members.installationId, installation.id));
    expect(stored.map((m) => m.userId).sort()).toEqual(members.map((m) => m.id).sort());
    github.world.removeMember(`org${installation.id}`, members[0]!.id);
    await enqueue(t.app.boss, "membersSync", { installationId: installation.id });
    await t.app.drain(["members-sync"], 60_000);
    const [left] = await t.database.db
      .select()
      .from(schema.members)
      .where(
        and(eq(schema.members.installationId, installation.id), eq(schema.members.userId, members[0]!.id)),
      );
    expect(left).toMatchObject({ active: false });
  }, 60_000);
});

/** A delta sync of just these repositories (a full nightly run also queues member and repository syncs). */
async function runDelta(installationId: number, repoIds: number[]) {
  await enqueue(t.app.boss, "deltaSync", { installationId, repoIds });
  await t.app.drain(["delta-sync"], 60_000);
}
