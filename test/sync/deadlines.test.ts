import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { like } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { enqueue } from "../../src/queue/boss.js";
import { catalog } from "../../src/queue/catalog.js";
import { APP_ID, QUICK_JOBS } from "../support/app.js";
import {
  deliverInstallationCreated,
  expectDatabaseToMatchGitHub,
  expectEachPullRequestCountedOnce,
  waitForBackfill,
} from "../support/delivery-stream.js";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";
import { waitFor } from "../support/wait.js";

// GitHub that takes requests and never answers them (README "Configuration": GITHUB_*_TIMEOUT_MS).
// Before deadlines, one such request held a backfill slice and an installation slot until pg-boss
// expired the job, ten minutes later.

let github: FakeGitHub;
beforeAll(async () => {
  github = await startFakeGitHub({ seed: 17 });
});
afterAll(async () => {
  await github.close();
});

const slotsHeld = (t: ReturnType<typeof useTestApp>) =>
  t.database.db.select().from(schema.appState).where(like(schema.appState.key, "github-slot:%"));

describe("a share of requests that hang", () => {
  // Short deadlines keep the test fast; a retry after a missed deadline is the same as after a 502.
  // Each hang costs one deadline; an answer takes milliseconds here, so 1 s leaves it room on a busy
  // machine. No debounce either (QUICK_JOBS): the final drain does not wait for the weekly refresh.
  const t = useTestApp(() => ({
    env: {
      GHE_HOST: github.host,
      GHE_PROTOCOL: "http",
      GITHUB_CONNECT_TIMEOUT_MS: "1000",
      GITHUB_REST_TIMEOUT_MS: "1000",
      GITHUB_GRAPHQL_TIMEOUT_MS: "1000",
      ...QUICK_JOBS,
    },
  }));

  it("cost retries only: the backfill completes with exactly GitHub's data", async () => {
    const installationId = 9300;
    const { repos } = github.world.seedOrg({
      login: "stally",
      repos: 3,
      prsPerRepo: 120,
      members: 5,
      reviewsPerPr: [0, 3],
      commitsPerPr: [1, 3],
      // Inside the default 30-day depth: the backfill brings every pull request of the repositories.
      spanDays: 20,
      // Long review and commit lists: follow-up queries (with retries) as well as page queries.
      longLists: true,
      installationId,
      appId: Number(APP_ID),
    });
    const repoIds = repos.map((repo) => repo.id);
    // GraphQL and REST alike (only token exchange is spared), and for certain the first listing of
    // the installation's repositories, a REST call.
    github.faults.set({
      hangRate: 0.1,
      stallBodyRate: 0.05,
      hangNext: { count: 1, match: "/installation/repositories" },
    });
    const hangsBefore = github.faults.hangs;
    try {
      await deliverInstallationCreated(t.app, github.world, installationId);
      await waitForBackfill(t.database, repoIds, "complete", {
        timeoutMs: 120_000,
        what: "every repository's backfill to complete through the hangs",
      });
    } finally {
      github.faults.clear();
    }
    await t.app.drain(undefined, 60_000);

    // The REST hang, and some of GraphQL's.
    expect(github.faults.hangs - hangsBefore).toBeGreaterThan(1);
    await expectDatabaseToMatchGitHub(t.database, github.world, repoIds);
    await expectEachPullRequestCountedOnce(t.database, github.world, repoIds);
    // Every hung request was given up by the app: no socket left open, no slot left held.
    expect(github.faults.hanging).toBe(0);
    expect(await slotsHeld(t)).toEqual([]);
  }, 150_000);
});

describe("a job whose attempt expires", () => {
  // Production deadlines: the hung request outlives the attempt, so only the attempt's end stops it.
  // pg-boss looks for expired attempts every second (QUICK_JOBS), not every 10 s.
  const t = useTestApp(() => ({ env: { GHE_HOST: github.host, GHE_PROTOCOL: "http", ...QUICK_JOBS } }));

  it("stops calling GitHub and frees its installation slot when pg-boss gives the attempt up", async () => {
    const installationId = 9400;
    const { repos } = github.world.seedOrg({
      login: "expiry",
      repos: 1,
      prsPerRepo: 20,
      members: 3,
      // Older than the default 30 days too: deepening the depth has pages left to fetch.
      spanDays: 60,
      installationId,
      appId: Number(APP_ID),
    });
    const repoId = repos[0]!.id;
    await deliverInstallationCreated(t.app, github.world, installationId);
    await waitForBackfill(t.database, [repoId], "complete", {
      timeoutMs: 60_000,
      what: "the first backfill",
    });
    await t.app.drain(undefined, 60_000);

    // The next attempt's requests hang, and it expires after 2 s instead of 900 s.
    await t.app.boss.updateQueue(catalog.backfillRepo.name, { expireInSeconds: 2 });
    github.faults.set({ hangRate: 1 });
    try {
      await t.database.db.update(schema.repositories).set({ syncDepth: "90d" });
      await enqueue(t.app.boss, "backfillRepo", { installationId, repoId });
      await waitFor(() => github.faults.hanging > 0, { what: "the backfill's request to hang" });
      expect(await slotsHeld(t)).toHaveLength(1);

      // pg-boss fails the attempt (to retry it later), the request is abandoned, the slot is free.
      await waitFor(
        async () => {
          const [job] = await t.app.jobs("backfill").then((jobs) => jobs.slice(-1));
          return job?.state === "retry" && github.faults.hanging === 0 && (await slotsHeld(t)).length === 0;
        },
        { timeoutMs: 20_000, what: "the expired attempt to let go of GitHub and its slot" },
      );
    } finally {
      github.faults.clear();
      await t.app.boss.updateQueue(catalog.backfillRepo.name, {
        expireInSeconds: catalog.backfillRepo.options.expireInSeconds,
      });
    }
  }, 120_000);
});
