import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { catalog } from "../../src/queue/catalog.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { waitFor } from "../support/wait.js";

// The nightly delta sync with two replicas running: each occurrence must produce one job, run once.
// (It does: pg-boss files each occurrence under its minute with a unique index that counts finished
// filings too, so two passes or two replicas cannot send one occurrence twice. Two failures seen
// under load were this test's own races with the next minute, not a second job for one occurrence:
// reading job times against the clock, and counting an occurrence whose send the queue's stately
// policy folded into the job still waiting from the minute before as a lost one.)
// Both runtimes look at the schedules every second (production: every 30 s) and the installation's
// schedule is made due every minute, with the options src/queue/schedule.ts gives the nightly one.

let database: TestDatabase;
let replicas: TestApp[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  replicas = await Promise.all(
    [0, 1].map(() =>
      startTestApp(database, {
        boss: { cronMonitorIntervalSeconds: 1, cronWorkerIntervalSeconds: 1 },
      }),
    ),
  );
});

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()));
  await database.drop();
});

interface CronJob {
  id: string;
  state: string;
  retryCount: number;
}

it("fires a schedule once per occurrence across two replicas", async () => {
  // An installation the app does not know: the delta sync ends quietly, so only scheduling counts.
  const installationId = 9500;
  const name = catalog.deltaSync.name;
  await replicas[0]!.boss.schedule(
    name,
    "* * * * *",
    // With repository ids the delta sync does not reschedule the nightly run.
    { installationId, repoIds: [1] },
    {
      tz: "UTC",
      key: String(installationId),
      singletonKey: catalog.deltaSync.singletonKey!({ installationId }),
      group: { id: String(installationId) },
    },
  );
  const jobs = () => database.sql<CronJob[]>`
    select id, state, retry_count as "retryCount" from pgboss.job
    where name = ${name} and data->>'installationId' = ${String(installationId)} order by created_on`;
  const cronPass = async () =>
    (await database.sql<{ at: string | null }[]>`select cron_on::text as at from pgboss.version`)[0]!.at;

  // 1. The occurrence that is due fires...
  await waitFor(async () => (await jobs()).length > 0, { timeoutMs: 20_000, what: "the schedule to fire" });

  // 2. ...and the replicas go on looking at it for five more passes (it stays due for a minute).
  let passes = 0;
  let last = await cronPass();
  await waitFor(
    async () => {
      const at = await cronPass();
      if (at !== last) [passes, last] = [passes + 1, at];
      return passes >= 5;
    },
    { timeoutMs: 20_000, what: "five more cron passes" },
  );

  // 3. Judged by pg-boss's own record of each occurrence, in one snapshot: a pass files an
  // occurrence as a send-it job named by its minute (its "slot"), which is then forwarded as one
  // job. Comparing job times with the clock instead raced the next minute's occurrence, which a
  // loaded machine sometimes let in between two reads.
  const [counts] = await database.sql<
    {
      occurrences: number;
      filings: number;
      forwarded: number;
      received: number;
      jobs: number;
      ids: string[];
    }[]
  >`
    with filings as (
      select data->>'slot' as slot, state, started_on, completed_on from pgboss.job
      where name = '__pgboss__send-it' and data->>'name' = ${name}
        and data->>'key' = ${String(installationId)}
    ), fired as (
      select id, created_on, started_on from pgboss.job
      where name = ${name} and data->>'installationId' = ${String(installationId)}
    )
    select
      (select count(distinct slot)::int from filings) as occurrences,
      (select count(*)::int from filings) as filings,
      (select count(*)::int from filings where state = 'completed') as forwarded,
      -- A forwarded occurrence is received when a job of the schedule was waiting while it was sent:
      -- its own, or (the queue is stately: one waiting job per key) the one an earlier occurrence sent
      -- that no worker had taken yet. Which of the two depends on where the next minute fell.
      (select count(*)::int from filings f where f.state = 'completed' and exists (
        select 1 from fired j
        where j.created_on <= f.completed_on and (j.started_on is null or j.started_on >= f.started_on)
      )) as received,
      (select count(*)::int from fired) as jobs,
      (select coalesce(array_agg(id::text), '{}') from fired) as ids`;
  // Each occurrence filed once, however many passes and replicas saw it due...
  expect(counts!.occurrences).toBeGreaterThan(0);
  expect(counts!.filings).toBe(counts!.occurrences);
  // ...every one forwarded reached a waiting job, and no occurrence sent more than one.
  expect(counts!.received).toBe(counts!.forwarded);
  expect(counts!.jobs).toBeGreaterThanOrEqual(Math.min(counts!.forwarded, 1));
  expect(counts!.jobs).toBeLessThanOrEqual(counts!.filings);

  // 4. Each of those jobs ran once.
  await replicas[0]!.drain([name]);
  const fired = (await jobs()).filter((job) => counts!.ids.includes(job.id));
  expect(fired).toHaveLength(counts!.jobs);
  expect(fired.map((job) => [job.state, job.retryCount])).toEqual(fired.map(() => ["completed", 0]));
});
