import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { eq, inArray } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { enqueue } from "../../src/queue/boss.js";
import { APP_ID } from "../support/app.js";
import { buildWebhook, startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";
import { waitFor } from "../support/wait.js";

// Facts, not faults: an uninstalled or suspended installation, a deleted repository or one taken
// out of the installation make GitHub answer 401, 403 or 404. The jobs that meet them must record
// what happened and complete; a failed job must mean a real fault.

let github: FakeGitHub;
let nextInstallationId = 8000;

beforeAll(async () => {
  // Some latency, so that a backfill is still running when the installation is suspended.
  github = await startFakeGitHub({ seed: 17, latency: { baseMs: 60, perNodeMs: 0.3 } });
});
const t = useTestApp(() => ({ env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" } }));
afterAll(async () => {
  await github.close();
});

async function install(options: { repos: number; prsPerRepo: number }) {
  const installationId = nextInstallationId++;
  const seeded = github.world.seedOrg({
    login: `clean${installationId}`,
    repos: options.repos,
    prsPerRepo: options.prsPerRepo,
    members: 3,
    spanDays: 25,
    installationId,
    appId: Number(APP_ID),
  });
  await deliverInstallationEvent(installationId, "created");
  return seeded;
}

async function deliverInstallationEvent(installationId: number, action: "created" | "suspend" | "unsuspend") {
  const hook = buildWebhook(github.world, "installation", action, { installationId }, github.urls);
  expect((await t.app.deliver(hook.name, hook.payload, { id: hook.id })).status).toBe(202);
}

/** Every job that ran, with its state and output; none may be failed or waiting for a retry. */
async function jobs() {
  return t.database.sql<{ name: string; state: string; output: { skipped?: string } | null }[]>`
    select name, state, output from pgboss.job order by created_on`;
}

async function expectNoFailedJobs() {
  const unfinished = (await jobs()).filter((job) => job.state === "failed" || job.state === "retry");
  expect(unfinished).toEqual([]);
}

async function repositories(ids: number[]) {
  return t.database.db
    .select()
    .from(schema.repositories)
    .where(inArray(schema.repositories.id, ids))
    .orderBy(schema.repositories.id);
}

describe("an installation uninstalled without us hearing of it", () => {
  it("ends every job that meets the 404 as completed and marks the installation deleted", async () => {
    const { installation, repos } = await install({ repos: 2, prsPerRepo: 5 });
    await t.app.drain(undefined, 60_000);
    const pr = github.world.listPullRequests(repos[0]!.id)[0]!;
    github.world.removeInstallation(installation.id);

    const installationId = installation.id;
    await enqueue(t.app.boss, "refreshPullRequest", {
      installationId,
      repoId: repos[0]!.id,
      pullRequestId: pr.id,
      nodeId: pr.nodeId,
    });
    await enqueue(t.app.boss, "syncRepositories", { installationId });
    await enqueue(t.app.boss, "membersSync", { installationId });
    await enqueue(t.app.boss, "deltaSync", { installationId, repoIds: [repos[1]!.id] });
    await t.app.drain(undefined, 60_000);

    await expectNoFailedJobs();
    const [row] = await t.database.db
      .select()
      .from(schema.installations)
      .where(eq(schema.installations.id, installationId));
    expect(row!.deletedAt).toBeInstanceOf(Date);
    // The first job to meet the refusal says why it skipped; the others find the installation gone.
    expect((await jobs()).map((job) => job.output?.skipped).filter(Boolean)).toContain("installation_gone");
    const schedules = await t.database.sql`select key from pgboss.schedule where name = 'delta-sync'`;
    expect(schedules).toEqual([]);
  }, 90_000);
});

describe("repositories deleted or taken out of the installation", () => {
  it("are marked removed with the reason, the other repositories sync on, and no job fails", async () => {
    const { installation, repos } = await install({ repos: 3, prsPerRepo: 5 });
    await t.app.drain(undefined, 60_000);
    const [deleted, unshared, kept] = repos as [(typeof repos)[0], (typeof repos)[0], (typeof repos)[0]];
    const pr = github.world.listPullRequests(deleted.id)[0]!;
    github.world.deleteRepo(deleted.id);
    github.world.removeRepoFromInstallation(installation.id, unshared.id);

    await enqueue(t.app.boss, "refreshPullRequest", {
      installationId: installation.id,
      repoId: deleted.id,
      pullRequestId: pr.id,
      nodeId: pr.nodeId,
    });
    await t.app.drain(["refresh-pull-request"], 60_000);
    await enqueue(t.app.boss, "deltaSync", {
      installationId: installation.id,
      repoIds: [deleted.id, unshared.id, kept.id],
    });
    await t.app.drain(["delta-sync"], 60_000);

    await expectNoFailedJobs();
    const outputs = (await jobs())
      .filter((job) => job.name === "refresh-pull-request")
      .map((job) => job.output);
    expect(outputs.at(-1)).toEqual({ skipped: "repository_removed" });
    const rows = await repositories([deleted.id, unshared.id, kept.id]);
    expect(
      rows.map((row) => ({
        removed: row.removedAt !== null,
        tracked: row.tracked,
        code: row.lastErrorCode,
        status: row.syncStatus,
      })),
    ).toEqual([
      { removed: true, tracked: false, code: "not_found", status: "complete" },
      { removed: true, tracked: false, code: "not_found", status: "complete" },
      { removed: false, tracked: true, code: null, status: "complete" },
    ]);
    expect(rows[0]!.lastError).toMatch(/no longer visible to the installation/);
  }, 90_000);
});

describe("a pull request gone from a repository that is still there", () => {
  it("is skipped with the reason, without asking GitHub about the installation", async () => {
    const { installation, repos } = await install({ repos: 1, prsPerRepo: 3 });
    await t.app.drain(undefined, 60_000);
    const pr = github.world.listPullRequests(repos[0]!.id)[0]!;
    // GitHub answers NOT_FOUND for its node id (taken down, say); the repository is untouched.
    github.world.pullRequests.delete(pr.id);
    github.stats.reset();

    await enqueue(t.app.boss, "refreshPullRequest", {
      installationId: installation.id,
      repoId: repos[0]!.id,
      pullRequestId: pr.id,
      nodeId: pr.nodeId,
    });
    await t.app.drain(["refresh-pull-request"], 60_000);

    await expectNoFailedJobs();
    expect((await jobs()).at(-1)).toMatchObject({
      state: "completed",
      output: { skipped: "pull_request_gone" },
    });
    const [repo] = await repositories([repos[0]!.id]);
    expect(repo).toMatchObject({ removedAt: null, tracked: true, syncStatus: "complete" });
    // A GraphQL NOT_FOUND comes with an accepted token: the installation is not in question.
    expect(github.stats.snapshot().byRoute["GET /app/installations/:installation_id"]).toBeUndefined();
  }, 90_000);
});

describe("a suspension in the middle of a backfill", () => {
  it("leaves nothing failed, and after unsuspend every repository completes on its own", async () => {
    const { installation, repos } = await install({ repos: 3, prsPerRepo: 500 });
    const repoIds = repos.map((repo) => repo.id);
    await waitFor(async () => (await repositories(repoIds)).some((repo) => repo.prsDone > 0), {
      timeoutMs: 60_000,
      what: "a backfill to be under way",
    });
    github.world.suspendInstallation(installation.id);
    await deliverInstallationEvent(installation.id, "suspend");
    await t.app.drain(undefined, 60_000);

    await expectNoFailedJobs();
    const suspended = await repositories(repoIds);
    // The suspension really cut backfills short: they wait, neither failed nor complete.
    expect(suspended.filter((repo) => repo.syncStatus !== "complete").length).toBeGreaterThan(0);
    expect(suspended.map((repo) => repo.syncStatus)).not.toContain("error");

    github.world.unsuspendInstallation(installation.id);
    await deliverInstallationEvent(installation.id, "unsuspend");
    await waitFor(async () => (await repositories(repoIds)).every((repo) => repo.syncStatus === "complete"), {
      timeoutMs: 120_000,
      what: "every repository to complete after unsuspend",
    });
    await t.app.drain(undefined, 60_000);
    await expectNoFailedJobs();
    const stored = await t.database.db
      .select({ id: schema.pullRequests.id })
      .from(schema.pullRequests)
      .where(eq(schema.pullRequests.installationId, installation.id));
    const truth = repoIds.flatMap((id) => github.world.listPullRequests(id));
    expect(stored.length).toBe(truth.length);
  }, 240_000);
});
