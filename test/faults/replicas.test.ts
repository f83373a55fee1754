import { expect, it } from "@jest/globals";
import { drainJobs, QUICK_RECOVERY, RETRIES_INCLUDED } from "../support/app.js";
import { useAppProcesses, type AppProcess } from "../support/app-process.js";
import {
  DeliveryLog,
  expectDatabaseToMatchGitHub,
  expectEachDeliveryProcessedOnce,
  expectEachJobRanOnce,
  expectEachPullRequestCountedOnce,
  countSessions,
  listClaimedJobs,
  redeliverFailed,
  seedActiveOrg,
  sendDeliveries,
  waitForBackfill,
} from "../support/delivery-stream.js";
import type { Webhook } from "../support/fake-github/index.js";
import { waitFor } from "../support/wait.js";

// Two processes of the app on one Postgres, behind a load balancer that alternates between them,
// against the fake GitHub. One is killed (SIGKILL) in the middle of the backfill and of a stream of
// deliveries; GitHub redelivers what failed to the other. Each delivery must be processed once,
// each job run once (but those the dead process held), the backfill finish with GitHub's data, and
// GitHub never see more requests at once for the installation than SYNC_CONCURRENCY_PER_INSTALLATION.

const SYNC_CONCURRENCY = 2;

// Latency keeps the backfill running long enough to be interrupted: a page of 100 pull requests
// (some 700 objects) takes about 3 s.
const f = useAppProcesses({ seed: 31, latency: { baseMs: 60, perNodeMs: 4 } });

it("processes each delivery and job once across two processes, one killed mid-backfill", async () => {
  const { database, github } = f;
  const installationId = 9400;
  // Webhooks for some of the pull requests the backfill also fetches: both paths write the same rows.
  const { repoIds, pullRequests, hooks } = seedActiveOrg(
    github.world,
    { login: "twins", installationId, repos: 3, prsPerRepo: 150, members: 5 },
    (_, i) => i % 25 === 0,
  );
  // A dead process's jobs and slots are free after 20 s, retries after 1 s (not 30 s and 10 s).
  // Page by page, without first windows: their packed queries fetch the whole of this small org
  // (20 days) in two lanes at once, and can finish before the kill (test/sync/first-window.test.ts
  // covers the lanes).
  const env = {
    SYNC_CONCURRENCY_PER_INSTALLATION: String(SYNC_CONCURRENCY),
    BACKFILL_FIRST_WINDOW_DAYS: "0",
    ...QUICK_RECOVERY,
  };
  const replicas = await Promise.all([0, 1].map(() => f.start(env)));
  const [doomed, survivor] = replicas as [AppProcess, AppProcess];
  await f.supervise();
  const log = new DeliveryLog();
  // The load balancer alternates; GitHub's redeliveries after the kill go to the survivor.
  const viaBalancer = (hook: Webhook, index: number) => replicas[index % 2]!.deliver(hook);

  // 1. The installation and half the stream, split between both processes.
  const half = Math.ceil(hooks.length / 2);
  await sendDeliveries(hooks.slice(0, half), viaBalancer, log, { concurrency: 2 });

  // 2. Once the backfill has stored pages, the rest of the stream starts, and a few deliveries
  // into it one process is killed.
  await waitForBackfill(database, repoIds, "under way", {
    timeoutMs: 30_000,
    what: "the backfill to be under way",
  });
  const streaming = sendDeliveries(hooks.slice(half), (hook, i) => viaBalancer(hook, half + i), log, {
    concurrency: 2,
  });
  await waitFor(() => log.acknowledgedCount() >= half + 4, {
    what: "the second half of the stream to start",
  });
  // Its sessions carry its name, so the claims it leaves are read once they are gone.
  expect(await countSessions(database, doomed)).toBeGreaterThan(0);
  await doomed.kill();
  const [{ done } = { done: 0 }] = await database.sql<{ done: number }[]>`
    select sum(prs_done)::int as done from repositories`;
  const heldByTheDead = await listClaimedJobs(database, doomed);
  await streaming;
  expect(done).toBeLessThan(pullRequests.length);

  // 3. GitHub redelivers what failed; the survivor finishes everything, the dead process's
  // claimed jobs included once their heartbeat lapses.
  await redeliverFailed(hooks, (hook) => survivor.deliver(hook), log);
  await waitForBackfill(database, repoIds, "complete", {
    timeoutMs: 90_000,
    what: "the backfill to complete on the surviving process",
  });
  // Retries included: a job the fault interrupted is retried after a backoff.
  await drainJobs(database, undefined, 60_000, RETRIES_INCLUDED);

  // 4. GitHub's data, each pull request counted once by the backfill.
  await expectDatabaseToMatchGitHub(database, github.world, repoIds);
  await expectEachPullRequestCountedOnce(database, github.world, repoIds);

  // 5. Each delivery stored once and processed once; each job ran once, but those the dead
  // process had claimed; none failed.
  await expectEachDeliveryProcessedOnce(database, hooks);
  await expectEachJobRanOnce(database, heldByTheDead);

  // 6. GitHub never saw more concurrent requests for the installation than the limit allows.
  const maxInFlight = github.stats.snapshot().maxInFlightByInstallation[String(installationId)];
  expect(maxInFlight).toBeGreaterThanOrEqual(1);
  expect(maxInFlight).toBeLessThanOrEqual(SYNC_CONCURRENCY);

  expect(survivor.exit).toBeUndefined();
  expect((await survivor.get("/readyz")).status).toBe(200);
}, 180_000);
