import { expect, it } from "@jest/globals";
import { drainJobs, QUICK_RECOVERY, RETRIES_INCLUDED } from "../support/app.js";
import { useAppProcesses } from "../support/app-process.js";
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
import { waitFor } from "../support/wait.js";

// kill -9 of the app (its own process, as in production) in the middle of a stream of deliveries
// and of a backfill. After a restart, and GitHub's redelivery of every delivery that got no 2xx,
// the database must hold exactly GitHub's data, each delivery processed once, nothing twice.

// Latency keeps the backfill running long enough to be interrupted: the first windows' packed
// query takes some 6 s, each page after it 3 s, so the kill lands seconds before the end even with
// two lanes at work. Both processes free a dead one's jobs and GitHub slots after 20 s and retry
// after 1 s (QUICK_RECOVERY), not 30 s and 10 s.
const f = useAppProcesses({ seed: 41, latency: { baseMs: 200, perNodeMs: 4 } });

it("loses and duplicates nothing when killed mid-stream and mid-backfill, once restarted", async () => {
  const { database, github } = f;
  const { repoIds, pullRequests, hooks } = seedActiveOrg(
    github.world,
    { login: "phoenix", installationId: 9600, repos: 2, prsPerRepo: 200, members: 5 },
    (_, i) => i % 25 === 0,
  );
  const first = await f.start(QUICK_RECOVERY);
  // Hands a dead process's claimed jobs back as soon as their heartbeat lapses.
  await f.supervise();
  const log = new DeliveryLog();

  // 1. The installation and half the stream.
  const half = Math.ceil(hooks.length / 2);
  await sendDeliveries(hooks.slice(0, half), (hook) => first.deliver(hook), log, { concurrency: 2 });

  // 2. With the backfill under way, the rest of the stream starts; a few deliveries in, kill -9.
  await waitForBackfill(database, repoIds, "under way", {
    timeoutMs: 30_000,
    what: "the backfill to be under way",
  });
  const streaming = sendDeliveries(hooks.slice(half), (hook) => first.deliver(hook), log, { concurrency: 2 });
  await waitFor(() => log.acknowledgedCount() >= half + 4, {
    what: "the second half of the stream to start",
  });
  // Its sessions carry its name, so the claims it leaves are read once they are gone.
  expect(await countSessions(database, first)).toBeGreaterThan(0);
  await first.kill("SIGKILL");
  const [{ done } = { done: 0 }] = await database.sql<{ done: number }[]>`
    select sum(prs_done)::int as done from repositories`;
  const interrupted = await listClaimedJobs(database, first);
  await streaming;
  expect(done).toBeLessThan(pullRequests.length);
  expect(log.failed(hooks).length).toBeGreaterThan(0);

  // 3. Restarted; GitHub redelivers every delivery that got no 2xx.
  const restarted = await f.start(QUICK_RECOVERY);
  await redeliverFailed(hooks, (hook) => restarted.deliver(hook), log);
  await waitForBackfill(database, repoIds, "complete", {
    timeoutMs: 90_000,
    what: "the backfill to complete after the restart",
  });
  await drainJobs(database, undefined, 60_000, RETRIES_INCLUDED);

  // 4. GitHub's data, each pull request counted once by the backfill, each delivery processed once,
  // each job run once but those the killed process had claimed.
  await expectDatabaseToMatchGitHub(database, github.world, repoIds);
  await expectEachPullRequestCountedOnce(database, github.world, repoIds);
  await expectEachDeliveryProcessedOnce(database, hooks);
  await expectEachJobRanOnce(database, interrupted);
  expect((await restarted.get("/readyz")).status).toBe(200);
}, 180_000);
