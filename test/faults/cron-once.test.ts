import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { catalog } from "../../src/queue/catalog.js";
import { startTestApp, type TestApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { waitFor } from "../support/wait.js";

// The nightly delta sync with two replicas running: each occurrence must produce one job, run once.
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
  await replicas[0]!.drain([name]);

  // One job per occurrence: the first, and one per minute boundary crossed since (none, usually).
  const [{ boundaries }] = (await database.sql<{ boundaries: number }[]>`
    select (floor(extract(epoch from now()) / 60) - floor(extract(epoch from min(created_on)) / 60))::int
      as boundaries
    from pgboss.job where name = ${name} and data->>'installationId' = ${String(installationId)}`) as unknown as [
    { boundaries: number },
  ];
  const fired = await jobs();
  expect(fired).toHaveLength(1 + boundaries);
  // Each ran once.
  expect(fired.map((job) => [job.state, job.retryCount])).toEqual(fired.map(() => ["completed", 0]));
});
