import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { inArray } from "drizzle-orm";
import type { PgBoss } from "pg-boss";
import { createDatabase, type Database } from "../../src/db/client.js";
import { startEmbeddedPostgres, type RunningPostgres } from "../../src/db/embedded.js";
import * as schema from "../../src/db/schema/index.js";
import { drainJobs, QUICK_JOBS, QUICK_RECOVERY, RETRIES_INCLUDED } from "../support/app.js";
import { startAppProcess, startSupervisor, type AppProcess } from "../support/app-process.js";
import { freePort } from "../support/free-port.js";
import {
  DeliveryLog,
  expectDatabaseToMatchGitHub,
  isAcknowledged,
  redeliverFailed,
  seedActiveOrg,
  sendDeliveries,
} from "../support/delivery-stream.js";
import { startFakeGitHub, type FakeGitHub, type Webhook } from "../support/fake-github/index.js";
import { waitFor } from "../support/wait.js";

// Postgres restarted under a stream of deliveries, with the app as production runs it: its own
// process, its own pools (postgres.js for the app, pg for pg-boss and its LISTEN connection). While
// Postgres is away intake must never answer 2xx (GitHub would not deliver again) and /readyz must
// say not ready; afterwards the same process must take deliveries and run its jobs again without a
// restart, and every delivery it acknowledged must have been stored. Before the postgres.js patch
// (patches/), the restart killed the process with an uncaught TypeError.
// This Postgres is the test's own (not the shared one of test/global-setup.js), so it can be stopped.

let dataDir: string;
let postgresPort: number;
let postgres: RunningPostgres | undefined;
let database: Database;
let github: FakeGitHub;
let app: AppProcess | undefined;
let supervisor: PgBoss | undefined;

const startPostgres = () =>
  startEmbeddedPostgres({
    dataDir: path.join(dataDir, "data"),
    port: postgresPort,
    persistent: true,
    database: "pr_pulse",
  });

beforeAll(async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pr-pulse-restart-pg-"));
  // Postgres runs as a system user of its own when the tests run as root.
  await fs.chmod(dataDir, 0o777);
  postgresPort = await freePort();
  postgres = await startPostgres();
  database = createDatabase(postgres.url, { max: 2 });
  github = await startFakeGitHub({ seed: 21 });
}, 60_000);

afterAll(async () => {
  await app?.kill();
  await supervisor?.stop({ graceful: false });
  await database?.close();
  await github?.close();
  await postgres?.stop();
  await fs.rm(dataDir, { recursive: true, force: true });
}, 60_000);

it("acknowledges no delivery it could not store while Postgres restarts, then recovers by itself", async () => {
  const { repoIds, hooks } = seedActiveOrg(github.world, {
    login: "restarty",
    installationId: 9300,
    repos: 2,
    prsPerRepo: 8,
    members: 4,
  });
  // A job whose completion Postgres refused mid-restart is handed back after its heartbeat, not
  // minutes later, and retried after 1 s, not 10 s (QUICK_RECOVERY; no weekly-metrics debounce:
  // nothing here kills the process). No redelivery scan, as in every in-process test app: GitHub's
  // redeliveries are the test's (step 4), and a scan the restart failed waited 30 s for its retry.
  // Recovery itself is the app's: its pools, its workers, its LISTEN connection.
  app = await startAppProcess({
    databaseUrl: postgres!.url,
    githubHost: github.host,
    env: { ...QUICK_JOBS, ...QUICK_RECOVERY, WEBHOOK_REDELIVERY_INTERVAL_MINUTES: "0" },
  });
  supervisor = await startSupervisor(postgres!.url);

  // 1. Deliveries stream in; with a third acknowledged, Postgres stops. While it is down, the
  // stream goes on and eight more deliveries arrive; then Postgres starts again.
  const [installationHook, ...rest] = hooks;
  const arrivingWhileDown = rest.slice(0, 8);
  const stream = [installationHook!, ...rest.slice(8)];
  const log = new DeliveryLog();
  const send = (hook: Webhook) => app!.deliver(hook);
  const streaming = sendDeliveries(stream, send, log, { concurrency: 4 });
  await waitFor(() => log.acknowledgedCount() >= stream.length / 3, {
    timeoutMs: 20_000,
    what: "a third of the stream to be acknowledged",
  });
  await postgres!.stop();
  postgres = undefined;
  const readyWhileDown = (await app.get("/readyz")).status;
  const answersWhileDown = await Promise.all(arrivingWhileDown.map(send));
  arrivingWhileDown.forEach((hook, i) => log.record(hook, answersWhileDown[i]!));
  postgres = await startPostgres();
  await streaming;

  // 2. While Postgres was down: never a 2xx, and not ready.
  expect(answersWhileDown.filter(isAcknowledged)).toEqual([]);
  expect(readyWhileDown).toBe(503);

  // 3. Every delivery acknowledged so far, before, during or after the restart, had been stored:
  // intake commits before it answers 2xx.
  const acknowledged = hooks.filter((hook) => log.acknowledged(hook.id)).map((hook) => hook.id);
  const stored = await database.db
    .select({ id: schema.webhookDeliveries.id })
    .from(schema.webhookDeliveries)
    .where(inArray(schema.webhookDeliveries.id, acknowledged));
  expect(stored).toHaveLength(acknowledged.length);

  // 4. The same process takes deliveries again: GitHub's redeliveries of the failed ones succeed.
  await redeliverFailed(hooks, send, log);
  await waitFor(async () => (await app!.get("/readyz")).status === 200, {
    timeoutMs: 10_000,
    what: "/readyz to say ready again",
  });

  // 5. ...and runs every job: each delivery processed once, the backfill complete, GitHub's data in
  // the database, no job failed.
  // Retries included: a job the fault interrupted is retried after a backoff.
  await drainJobs(database, undefined, 60_000, RETRIES_INCLUDED);
  const repositories = await database.db.select().from(schema.repositories);
  expect(repositories.map((row) => [row.id, row.syncStatus]).sort()).toEqual(
    repoIds.map((id) => [id, "complete"]).sort(),
  );
  const deliveries = await database.db.select().from(schema.webhookDeliveries);
  expect(deliveries.map((row) => row.id).sort()).toEqual(hooks.map((hook) => hook.id).sort());
  expect(deliveries.filter((row) => row.status !== "processed")).toEqual([]);
  await expectDatabaseToMatchGitHub(database, github.world, repoIds);
  expect(await database.sql`select name, data, output from pgboss.job where state = 'failed'`).toEqual([]);

  // 6. pg-boss's LISTEN connection (the wake-up for webhook jobs) is back too: a session of the job
  // pool listening, or checking it still is (its heartbeat), on the restarted Postgres.
  await waitFor(
    async () => {
      const [row] = await database.sql<{ sessions: number }[]>`
        select count(*)::int as sessions from pg_stat_activity
        where application_name = ${`${app!.applicationName}-jobs`}
          and (query ilike 'LISTEN %' or query like '%pg_listening_channels()%')`;
      return row!.sessions > 0;
    },
    { timeoutMs: 30_000, what: "the LISTEN connection to be back" },
  );

  // 7. Still the same process, still serving.
  expect(app.exit).toBeUndefined();
  expect(app.output()).not.toMatch(/Cannot read properties of null/);
  expect((await app.get("/healthz")).status).toBe(200);
}, 120_000);
