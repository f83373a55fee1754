import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { eq } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { APP_ID, startTestApp } from "../support/app.js";
import { startAppProcess, type AppProcess } from "../support/app-process.js";
import { waitForBackfill } from "../support/delivery-stream.js";
import { buildWebhook, startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";

// SIGTERM, the way an orchestrator stops a replica: the app's own entry point runs as a child
// process, busy with a backfill and a stream of webhook deliveries. It must stop accepting, let
// what is in flight finish or hand it back, and exit 0 within 25 s; afterwards every delivery it
// acknowledged is stored and processed, and the backfill completes elsewhere.

let github: FakeGitHub;
let child: AppProcess | undefined;

beforeAll(async () => {
  // Latency so that the backfill is mid-page when the signal arrives.
  github = await startFakeGitHub({ seed: 5, latency: { baseMs: 150, perNodeMs: 0.5 } });
});
const t = useTestApp(() => ({ env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" }, queues: [] }));
afterAll(async () => {
  await child?.kill();
  await github.close();
});

it("exits 0 within 25 s of SIGTERM, and nothing it accepted is lost", async () => {
  const installationId = 9200;
  const { repos } = github.world.seedOrg({
    login: "sigterm",
    repos: 1,
    prsPerRepo: 400,
    members: 3,
    spanDays: 25,
    installationId,
    appId: Number(APP_ID),
  });
  const repoId = repos[0]!.id;
  child = await startAppProcess({ databaseUrl: t.database.url, githubHost: github.host });
  const app = child;
  const created = buildWebhook(github.world, "installation", "created", { installationId }, github.urls);
  expect(await app.deliver(created)).toBe(202);
  await waitForBackfill(t.database, [repoId], "under way", {
    timeoutMs: 60_000,
    what: "the backfill to run in the child process",
  });

  // Deliveries keep coming while the signal arrives; some are answered, later ones are refused
  // (GitHub records those as failed, and they are redelivered).
  const prs = github.world.listPullRequests(repoId).slice(0, 40);
  const deliver = async (pr: (typeof prs)[number]) => {
    const hook = buildWebhook(github.world, "pull_request", "edited", { prId: pr.id }, github.urls);
    return { id: hook.id, status: await app.deliver(hook) };
  };
  // One answered before the signal for certain: on a loaded machine the stream's first could
  // arrive after it.
  const before = await deliver(prs[0]!);
  expect(before.status).toBe(202);
  const deliveries = prs.slice(1).map(async (pr, index) => {
    await new Promise((resolve) => setTimeout(resolve, index * 10));
    return deliver(pr);
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const signalled = Date.now();
  const stopped = app.kill("SIGTERM");
  const results = [before, ...(await Promise.all(deliveries))];
  await stopped;
  const stoppedInMs = Date.now() - signalled;

  expect(app.exit).toEqual({ code: 0, signal: null });
  expect(stoppedInMs).toBeLessThan(25_000);
  const accepted = results.filter((result) => result.status === 202).map((result) => result.id);
  expect(accepted.length).toBeGreaterThan(0);
  const stored = await t.database.db
    .select({ id: schema.webhookDeliveries.id })
    .from(schema.webhookDeliveries);
  expect(stored.map((row) => row.id)).toEqual(expect.arrayContaining(accepted));

  // Another process takes over: everything acknowledged gets processed and the backfill completes.
  const worker = await startTestApp(t.database, {
    env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" },
    boss: { superviseIntervalSeconds: 1, monitorIntervalSeconds: 1 },
  });
  try {
    await waitForBackfill(t.database, [repoId], "complete", {
      timeoutMs: 120_000,
      what: "the backfill to complete on another worker",
    });
    await worker.drain(["process-webhook"], 60_000);
  } finally {
    await worker.stop();
  }
  const processed = await t.database.db
    .select({ id: schema.webhookDeliveries.id, status: schema.webhookDeliveries.status })
    .from(schema.webhookDeliveries);
  expect(processed.filter((row) => accepted.includes(row.id) && row.status !== "processed")).toEqual([]);
  const prsStored = await t.database.db
    .select({ id: schema.pullRequests.id })
    .from(schema.pullRequests)
    .where(eq(schema.pullRequests.repoId, repoId));
  expect(prsStored.length).toBe(github.world.listPullRequests(repoId).length);
  const failed = await t.database.sql`select name from pgboss.job where state = 'failed'`;
  expect(failed).toEqual([]);
}, 240_000);
