import { afterAll, beforeAll, expect, it } from "@jest/globals";
import type { PgBoss } from "pg-boss";
import * as schema from "../../src/db/schema/index.js";
import { APP_ID, drainJobs, RETRIES_INCLUDED } from "../support/app.js";
import { startAppProcess, startSupervisor, type AppProcess } from "../support/app-process.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import {
  buildActivity,
  DeliveryLog,
  expectDatabaseToMatchGitHub,
  expectEachDeliveryProcessedOnce,
  expectEachJobRanOnce,
  listClaimedJobs,
  redeliverFailed,
  sendDeliveries,
} from "../support/delivery-stream.js";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { waitFor } from "../support/wait.js";

// kill -9 of the app (its own process, as in production) in the middle of a stream of deliveries
// and of a backfill. After a restart, and GitHub's redelivery of every delivery that got no 2xx,
// the database must hold exactly GitHub's data, each delivery processed once, nothing twice.

let database: TestDatabase;
let github: FakeGitHub;
const processes: AppProcess[] = [];
let supervisor: PgBoss | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  // Latency keeps the backfill running long enough to be interrupted.
  github = await startFakeGitHub({ seed: 41, latency: { baseMs: 60, perNodeMs: 0.5 } });
});

afterAll(async () => {
  await Promise.all(processes.map((app) => app.kill()));
  await supervisor?.stop({ graceful: false });
  await github.close();
  await database.drop();
});

it("loses and duplicates nothing when killed mid-stream and mid-backfill, once restarted", async () => {
  const installationId = 9600;
  const { repos } = github.world.seedOrg({
    login: "phoenix",
    repos: 2,
    prsPerRepo: 200,
    members: 5,
    reviewsPerPr: [0, 3],
    commitsPerPr: [1, 3],
    spanDays: 20,
    installationId,
    appId: Number(APP_ID),
  });
  const repoIds = repos.map((repo) => repo.id);
  const pullRequests = repoIds.flatMap((id) => github.world.listPullRequests(id));
  const hooks = buildActivity(
    github.world,
    installationId,
    pullRequests.filter((_, i) => i % 25 === 0),
  );
  const first = await startAppProcess({ databaseUrl: database.url, githubHost: github.host });
  processes.push(first);
  // Hands a dead process's claimed jobs back as soon as their heartbeat lapses.
  supervisor = await startSupervisor(database.url);
  const log = new DeliveryLog();

  // 1. The installation and half the stream.
  const half = Math.ceil(hooks.length / 2);
  await sendDeliveries(hooks.slice(0, half), (hook) => first.deliver(hook), log, { concurrency: 2 });

  // 2. With the backfill under way, the rest of the stream starts; a few deliveries in, kill -9.
  await waitFor(
    async () => {
      const rows = await database.db.select().from(schema.repositories);
      return rows.some((row) => row.prsDone > 0 && row.syncStatus === "syncing");
    },
    { timeoutMs: 30_000, what: "the backfill to be under way" },
  );
  const streaming = sendDeliveries(hooks.slice(half), (hook) => first.deliver(hook), log, { concurrency: 2 });
  await waitFor(() => log.acknowledgedCount() >= half + 4, {
    what: "the second half of the stream to start",
  });
  await first.kill("SIGKILL");
  const [{ done } = { done: 0 }] = await database.sql<{ done: number }[]>`
    select sum(prs_done)::int as done from repositories`;
  const interrupted = await listClaimedJobs(database);
  await streaming;
  expect(done).toBeLessThan(pullRequests.length);
  expect(log.failed(hooks).length).toBeGreaterThan(0);

  // 3. Restarted; GitHub redelivers every delivery that got no 2xx.
  const restarted = await startAppProcess({ databaseUrl: database.url, githubHost: github.host });
  processes.push(restarted);
  await redeliverFailed(hooks, (hook) => restarted.deliver(hook), log);
  await waitFor(
    async () => {
      const rows = await database.db.select().from(schema.repositories);
      return rows.length === repoIds.length && rows.every((row) => row.syncStatus === "complete");
    },
    { timeoutMs: 90_000, what: "the backfill to complete after the restart" },
  );
  await drainJobs(database, undefined, 60_000, RETRIES_INCLUDED);

  // 4. GitHub's data, each pull request counted once by the backfill, each delivery processed once,
  // each job run once but those the killed process had claimed.
  await expectDatabaseToMatchGitHub(database, github.world, repoIds);
  const repositories = await database.db.select().from(schema.repositories);
  expect(repositories.map((row) => [row.id, row.prsDone]).sort()).toEqual(
    repos.map((repo) => [repo.id, github.world.listPullRequests(repo.id).length]).sort(),
  );
  await expectEachDeliveryProcessedOnce(database, hooks);
  await expectEachJobRanOnce(database, interrupted);
  expect((await restarted.get("/readyz")).status).toBe(200);
}, 180_000);
