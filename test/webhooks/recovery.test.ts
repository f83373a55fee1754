import { createServer } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { eq } from "drizzle-orm";
import nock from "nock";
import pino from "pino";
import * as schema from "../../src/db/schema/index.js";
import { createGitHubAppClientFactory } from "../../src/github/app-client.js";
import { enqueue } from "../../src/queue/boss.js";
import { WEBHOOK_PATH } from "../../src/server.js";
import {
  nextRoundDelayMs,
  redeliverMissedDeliveries,
  REDELIVERY_STATE_KEY,
  requeueStrandedDeliveries,
  retryFailedDeliveries,
} from "../../src/webhooks/recovery.js";
import { createProbot } from "../../src/github/probot.js";
import { APP_ID, startTestApp, testConfig, WEBHOOK_SECRET } from "../support/app.js";
import { createTestDatabase } from "../support/database.js";
import { GITHUB_API } from "../support/github-nock.js";
import {
  buildWebhook,
  deliverWebhook,
  startFakeGitHub,
  type FakeGitHub,
  type Webhook,
} from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";
import { waitFor } from "../support/wait.js";

// Never lose an event: deliveries GitHub failed to hand over are asked for again (once per GUID),
// and deliveries whose processing failed get more rounds from our own table. The app runs against
// the fake GitHub, which records every delivery attempt and redelivers on request.

let github: FakeGitHub;
let deadUrl: string;
const appId = Number(APP_ID);
const silent = pino({ level: "silent" });

beforeAll(async () => {
  github = await startFakeGitHub({ seed: 21 });
  github.world.addApp({ id: appId });
  deadUrl = `http://127.0.0.1:${await closedPort()}${WEBHOOK_PATH}`;
});
const t = useTestApp(() => ({ env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" } }));
afterAll(async () => {
  await github.close();
});
beforeEach(() => {
  github.world.hookDeliveries.length = 0;
  github.world.hookUrls.clear();
});

/** A port nothing listens on: deliveries to it fail to connect, as when the app is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let nextInstallationId = 7000;
function seed() {
  const installationId = nextInstallationId++;
  const seeded = github.world.seedOrg({
    login: `recover${installationId}`,
    repos: 1,
    prsPerRepo: 6,
    members: 3,
    installationId,
    appId,
  });
  const repo = seeded.repos[0]!;
  const prs = github.world.listPullRequests(repo.id);
  const hook = (prIndex: number) =>
    buildWebhook(github.world, "pull_request", "edited", { prId: prs[prIndex]!.id }, github.urls);
  return { installationId, repo, prs, org: seeded.org, hook };
}

/** GitHub delivering a webhook: to the app, or to where the app is not listening; recorded. */
async function deliverAs(webhook: Webhook, url: string, secret = WEBHOOK_SECRET) {
  return deliverWebhook(
    { url, secret, name: webhook.name, id: webhook.id, payload: webhook.payload, appId },
    { world: github.world },
  );
}

const appUrl = () => `${t.app.url}${WEBHOOK_PATH}`;

/** A delivery attempt as GitHub records it, written straight into the fake's log. */
function attempt(guid: string, statusCode: number, webhook?: Webhook) {
  return {
    guid,
    deliveredAt: new Date().toISOString(),
    redelivery: false,
    duration: 0.1,
    status: statusCode >= 200 && statusCode < 300 ? "OK" : `Invalid HTTP Response: ${statusCode}`,
    statusCode,
    event: webhook?.name ?? "ping",
    action: null,
    installationId: null,
    repositoryId: null,
    appId,
    sent: {
      url: deadUrl,
      secret: WEBHOOK_SECRET,
      payload: webhook?.payload ?? { zen: "Keep it logically awesome." },
    },
  };
}

const redeliveryRequests = (guid: string) =>
  github.world.hookDeliveries.filter((attempt) => attempt.guid === guid && attempt.redelivery).length;

async function storedDeliveries() {
  return t.database.db
    .select({ id: schema.webhookDeliveries.id, status: schema.webhookDeliveries.status })
    .from(schema.webhookDeliveries);
}

async function runRecovery() {
  await enqueue(t.app.boss, "redeliverWebhooks", {});
  await t.app.drain(["redeliver-webhooks"]);
}

async function failedOrRetrying() {
  return t.database.sql<{ name: string; state: string }[]>`
    select name, state from pgboss.job where state in ('failed', 'retry')`;
}

describe("redelivery from GitHub", () => {
  it("repairs a missed pull request event by a delta sync and redelivers other events, each GUID once, oldest first", async () => {
    const { installationId, repo, prs, org, hook } = seed();
    const created = buildWebhook(github.world, "installation", "created", { installationId }, github.urls);
    expect((await deliverAs(created, appUrl())).status).toBe(202);
    await t.app.drain(undefined, 30_000);

    // The app is down while the world changes (a second on, so GitHub's second-precision times
    // are past the backfill's watermark): each change's delivery fails.
    github.world.setNow(new Date(Date.now() + 2_000));
    const edited = github.world.updatePullRequest(prs[0]!.id, { title: "Edited while the app was down" });
    const missedPr = hook(0);
    github.world.renameRepo(repo.id, "renamed-while-down");
    const missedRename = buildWebhook(
      github.world,
      "repository",
      "renamed",
      { repoId: repo.id },
      github.urls,
    );
    const newcomer = github.world.addUser({ login: `newcomer-${installationId}` });
    github.world.addMember(org.login, newcomer.id);
    const missedMember = buildWebhook(
      github.world,
      "organization",
      "member_added",
      { installationId, userId: newcomer.id },
      github.urls,
    );
    github.world.setNow(null);
    for (const missed of [missedPr, missedRename, missedMember]) {
      expect((await deliverAs(missed, deadUrl)).status).toBe(0);
    }
    // Signed with a secret the app does not know: refused now, and refused again when redelivered.
    const badlySigned = buildWebhook(
      github.world,
      "repository",
      "archived",
      { repoId: repo.id },
      github.urls,
    );
    expect((await deliverAs(badlySigned, appUrl(), "not-the-secret")).status).toBe(401);
    // GitHub timed out waiting, but the app had stored it.
    const storedAnyway = hook(3);
    expect(
      (await t.app.deliver(storedAnyway.name, storedAnyway.payload, { id: storedAnyway.id })).status,
    ).toBe(202);
    github.world.recordHookDelivery(attempt(storedAnyway.id, 0, storedAnyway));
    // Failed first, then redelivered successfully by hand (to another deployment, say).
    const redeliveredByHand = hook(4);
    await deliverAs(redeliveredByHand, deadUrl);
    github.world.recordHookDelivery({
      ...attempt(redeliveredByHand.id, 200, redeliveredByHand),
      redelivery: true,
    });
    await t.app.drain();

    // GitHub redelivers to wherever the App's webhook points now: the app, up again.
    github.world.hookUrls.set(appId, appUrl());
    await runRecovery();
    await waitFor(
      async () => (await storedDeliveries()).filter((row) => row.status === "processed").length === 4,
      { what: "the redelivered events to be processed" },
    );
    await t.app.drain(undefined, 30_000);

    expect({
      missedPr: redeliveryRequests(missedPr.id),
      missedRename: redeliveryRequests(missedRename.id),
      missedMember: redeliveryRequests(missedMember.id),
      badlySigned: redeliveryRequests(badlySigned.id),
      storedAnyway: redeliveryRequests(storedAnyway.id),
      redeliveredByHand: redeliveryRequests(redeliveredByHand.id),
    }).toEqual({
      missedPr: 0,
      missedRename: 1,
      missedMember: 1,
      badlySigned: 1,
      storedAnyway: 0,
      // Its one redelivery is the one made by hand.
      redeliveredByHand: 1,
    });
    // In the order GitHub first attempted them.
    const redelivered = github.world.hookDeliveries.filter(
      (a) => a.redelivery && a.guid !== redeliveredByHand.id,
    );
    expect(redelivered.map((a) => a.guid)).toEqual([missedRename.id, missedMember.id, badlySigned.id]);
    const claims = await t.database.db.select().from(schema.webhookRedeliveries);
    expect(claims.map((claim) => [claim.guid, claim.outcome]).sort()).toEqual(
      [
        [missedPr.id, "repaired_by_sync"],
        [missedRename.id, "requested"],
        [missedMember.id, "requested"],
        [badlySigned.id, "requested"],
      ].sort(),
    );
    const stored = await storedDeliveries();
    expect(stored.map((row) => row.id).sort()).toEqual(
      [created.id, missedRename.id, missedMember.id, storedAnyway.id].sort(),
    );
    expect(stored.every((row) => row.status === "processed")).toBe(true);
    // The pull request is GitHub's, by the delta sync of its repository; the request is met.
    const [pr] = await t.database.sql<{ title: string }[]>`
      select title from pull_requests where id = ${edited.id}`;
    expect(pr!.title).toBe("Edited while the app was down");
    expect(await t.database.sql`select full_name, delta_requested_at from repositories`).toEqual([
      { full_name: `${org.login}/renamed-while-down`, delta_requested_at: null },
    ]);
    expect(await t.database.sql`select login from members where user_id = ${newcomer.id}`).toEqual([
      { login: newcomer.login },
    ]);

    // The next run asks for nothing: the badly signed one failed again, but it was asked for once.
    const attemptsBefore = github.world.hookDeliveries.length;
    await runRecovery();
    expect(github.world.hookDeliveries.length).toBe(attemptsBefore);
    expect(await failedOrRetrying()).toEqual([]);
  }, 60_000);

  it("reads the whole list first, over several runs, then redelivers oldest first, at most its budget per run", async () => {
    // 2,050 attempts (21 pages of 100; a run reads 20), every 250th failed: 9 to redeliver.
    // Octokit spaces redelivery requests (POSTs) a second apart, as GitHub asks: a few suffice.
    const failedGuids: string[] = [];
    const hourAgo = Date.now() - 3_600_000;
    const count = 2_050;
    for (let i = 0; i < count; i += 1) {
      const failed = i % 250 === 0;
      const guid = `bulk-${i}`;
      if (failed) failedGuids.push(guid);
      // Ten seconds apart, an hour ago and older: a later scan looks back only five minutes past them.
      const deliveredAt = new Date(hourAgo - (count - i) * 10_000).toISOString();
      github.world.recordHookDelivery({ ...attempt(guid, failed ? 502 : 202), deliveredAt });
    }
    const deps = recoveryDeps();

    const runs = [];
    for (let run = 0; run < 4; run += 1) runs.push(await redeliverMissedDeliveries(deps, 4));
    expect(runs.map((run) => [run.pages, run.finished, run.missed, run.requested, run.pending])).toEqual([
      [20, false, 8, 0, 8],
      [1, true, 1, 4, 5],
      [1, true, 0, 4, 1],
      [1, true, 0, 1, 0],
    ]);
    await waitFor(() => failedGuids.every((guid) => redeliveryRequests(guid) === 1), {
      what: "the fake to redeliver every failed GUID",
    });
    const redelivered = github.world.hookDeliveries.filter((a) => a.redelivery).map((a) => a.guid);
    expect(redelivered).toEqual(failedGuids);

    // Newer failures: the next scan reads from the top and stops where the last one finished.
    // (An id is set aside for an attempt GitHub lists only later, below them.)
    const inFlight = github.world.recordHookDelivery(attempt("in-flight", 502));
    github.world.hookDeliveries.splice(github.world.hookDeliveries.indexOf(inFlight), 1);
    for (const guid of ["late-1", "late-2"]) github.world.recordHookDelivery(attempt(guid, 500));
    expect(await redeliverMissedDeliveries(deps, 10)).toMatchObject({
      pages: 1,
      requested: 2,
      finished: true,
    });

    // The attempt that was in flight appears below where that scan finished: still found.
    github.world.hookDeliveries.push(inFlight);
    expect(await redeliverMissedDeliveries(deps, 10)).toMatchObject({
      pages: 1,
      requested: 1,
      finished: true,
    });
    const [bookmark] = await t.database.db
      .select()
      .from(schema.appState)
      .where(eq(schema.appState.key, REDELIVERY_STATE_KEY));
    expect(bookmark!.value).toMatchObject({ cursor: null, scanTopId: null });
  }, 60_000);

  it("a run that leaves redeliveries pending queues the next run at once", async () => {
    // A database of its own: the file's app works this queue too, with a budget of 100.
    const database = await createTestDatabase();
    const app = await startTestApp(database, {
      queues: ["redeliverWebhooks"],
      env: { GHE_HOST: github.host, GHE_PROTOCOL: "http", WEBHOOK_REDELIVERY_MAX_PER_RUN: "1" },
    });
    try {
      const guids = ["next-1", "next-2", "next-3"];
      for (const guid of guids) github.world.recordHookDelivery(attempt(guid, 502));
      await enqueue(app.boss, "redeliverWebhooks", {});
      await waitFor(() => guids.every((guid) => redeliveryRequests(guid) === 1), {
        what: "every GUID redelivered without waiting for the schedule",
      });
      await app.drain(["redeliver-webhooks"]);
      // One run per redelivery (the budget), then one that found nothing left.
      expect((await app.jobs("redeliver-webhooks")).map((job) => job.state)).toEqual([
        "completed",
        "completed",
        "completed",
      ]);
    } finally {
      await app.stop();
      await database.drop();
    }
  });

  it("two replicas scanning at once ask for each GUID once", async () => {
    const guids = Array.from({ length: 8 }, (_, i) => `race-${i}`);
    for (const guid of guids) github.world.recordHookDelivery(attempt(guid, 503));
    const deps = recoveryDeps();
    const [first, second] = await Promise.all([
      redeliverMissedDeliveries(deps, 100),
      redeliverMissedDeliveries(deps, 100),
    ]);
    expect(first!.requested + second!.requested).toBe(guids.length);
    await waitFor(() => guids.every((guid) => redeliveryRequests(guid) === 1), {
      what: "one redelivery per GUID",
    });
  });

  it("a GitHub without the deliveries API (an older GHES) is skipped, not failed", async () => {
    const config = testConfig();
    const probot = createProbot(config, config.app!, silent);
    nock(GITHUB_API)
      .get("/app/hook/deliveries")
      .query({ per_page: 100 })
      .reply(404, { message: "Not Found" });
    const result = await redeliverMissedDeliveries(
      { ...recoveryDeps(), app: createGitHubAppClientFactory(probot) },
      10,
    );
    expect(result).toEqual({
      pages: 0,
      missed: 0,
      repairedBySync: 0,
      requested: 0,
      pending: 0,
      finished: true,
    });
  });

  function recoveryDeps() {
    return {
      database: t.database,
      boss: t.app.boss,
      app: createGitHubAppClientFactory(t.app.runtime.probot!),
      log: silent,
      now: () => new Date(),
    };
  }
});

describe("the schedule", () => {
  it("scans every WEBHOOK_REDELIVERY_INTERVAL_MINUTES and reconciles installations every INSTALLATION_RECONCILE_INTERVAL_MINUTES, each once at start, and runs retention daily", async () => {
    const app = await startTestApp(t.database, {
      queues: [],
      env: {
        GHE_HOST: github.host,
        GHE_PROTOCOL: "http",
        WEBHOOK_REDELIVERY_INTERVAL_MINUTES: "5",
        INSTALLATION_RECONCILE_INTERVAL_MINUTES: "60",
      },
    });
    try {
      const schedules = await t.database.sql<{ name: string; cron: string }[]>`
        select name, cron from pgboss.schedule order by name`;
      expect(schedules).toEqual([
        { name: "reconcile-installations", cron: "0 * * * *" },
        { name: "redeliver-webhooks", cron: "*/5 * * * *" },
        { name: "retention", cron: "30 3 * * *" },
      ]);
      // Once at start: one job each, whether it has run yet or not (a quick machine may have run it).
      for (const queue of ["redeliver-webhooks", "reconcile-installations"]) {
        expect(await app.jobs(queue)).toEqual([{ data: {}, state: expect.any(String) }]);
      }
    } finally {
      await app.stop();
    }
  });
});

describe("retries from our own table", () => {
  const hour = 3_600_000;

  it.each([
    [6, 10],
    [12, 20],
    [18, 40],
    [60, 360],
  ])("a delivery with %i failed attempts waits %i minutes for its next round", (attempts, minutes) => {
    expect(nextRoundDelayMs(attempts)).toBe(minutes * 60_000);
  });

  it("queues failed deliveries again with a backoff, and leaves those out of rounds or too old", async () => {
    const now = new Date();
    const row = (id: string, attempts: number, receivedAgoMs: number) => ({
      id,
      event: "pull_request",
      action: "opened",
      installationId: 1,
      repositoryId: 1,
      status: "failed" as const,
      attempts,
      lastError: "connection terminated",
      receivedAt: new Date(now.getTime() - receivedAgoMs),
      payload: { action: "opened" },
    });
    await t.database.db
      .insert(schema.webhookDeliveries)
      .values([row("one-round", 6, hour), row("out-of-rounds", 24, hour), row("too-old", 6, 8 * 24 * hour)]);

    const retried = await retryFailedDeliveries(
      { database: t.database, boss: t.app.boss, log: silent, now: () => now },
      100,
    );

    expect(retried).toBe(1);
    const rows = await t.database.db
      .select({ id: schema.webhookDeliveries.id, status: schema.webhookDeliveries.status })
      .from(schema.webhookDeliveries);
    expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({
      "one-round": "queued",
      "out-of-rounds": "failed",
      "too-old": "failed",
    });
    const jobs = await t.database.sql<{ data: object; start_after: string }[]>`
      select data, start_after from pgboss.job where name = 'process-webhook'`;
    expect(jobs.map((job) => job.data)).toEqual([{ deliveryIds: ["one-round"], installationId: 1 }]);
    // Ten minutes from now: the first extra round (a second is left for the clock of Postgres).
    expect(new Date(jobs[0]!.start_after).getTime()).toBeGreaterThanOrEqual(
      now.getTime() + 10 * 60_000 - 1000,
    );
  });

  it("queues a job again for a delivery left queued without one, after half an hour", async () => {
    const now = new Date();
    const minute = 60_000;
    const row = (id: string, receivedAgoMs: number) => ({
      id,
      event: "pull_request",
      action: "opened",
      installationId: 1,
      repositoryId: 1,
      status: "queued" as const,
      receivedAt: new Date(now.getTime() - receivedAgoMs),
      payload: { action: "opened" },
    });
    await t.database.db
      .insert(schema.webhookDeliveries)
      .values([row("stranded", 60 * minute), row("waiting", 60 * minute), row("recent", minute)]);
    // A replica of an earlier version failed the stranded one's job: it reads jobs of one delivery.
    await enqueue(
      t.app.boss,
      "processWebhook",
      { deliveryIds: ["stranded"], installationId: 1 },
      { startAfter: 3600 },
    );
    await t.database.sql`update pgboss.job set state = 'failed' where data -> 'deliveryIds' ? 'stranded'`;
    // The waiting one's job is still to run; the recent one's may yet come.
    await enqueue(
      t.app.boss,
      "processWebhook",
      { deliveryIds: ["waiting"], installationId: 1 },
      { startAfter: 3600 },
    );
    const requeue = () =>
      requeueStrandedDeliveries({ database: t.database, boss: t.app.boss, log: silent, now: () => now }, 100);

    expect(await requeue()).toBe(1);
    const jobs = await t.database.sql<{ data: object }[]>`
      select data from pgboss.job where name = 'process-webhook' and state <> 'failed' order by created_on`;
    expect(jobs.map((job) => job.data)).toEqual([
      { deliveryIds: ["waiting"], installationId: 1 },
      { deliveryIds: ["stranded"], installationId: 1 },
    ]);
    // Its job is there now: the next run leaves it alone.
    await t.database
      .sql`update pgboss.job set start_after = now() + interval '1 hour' where state = 'created'`;
    expect(await requeue()).toBe(0);
  });

  it("a stored payload the handlers refuse is ignored with the reason, not retried to failure", async () => {
    await t.database.db.insert(schema.webhookDeliveries).values({
      id: "refused",
      event: "pull_request",
      action: "opened",
      installationId: 1,
      repositoryId: 1,
      status: "queued",
      payload: { action: "opened", number: 1 },
    });
    await enqueue(t.app.boss, "processWebhook", { deliveryId: "refused" });
    await t.app.drain(["process-webhook"]);
    const [delivery] = await t.database.db
      .select()
      .from(schema.webhookDeliveries)
      .where(eq(schema.webhookDeliveries.id, "refused"));
    expect(delivery).toMatchObject({
      status: "ignored",
      lastError: "pull_request payload does not match its schema",
    });
    expect(await t.app.jobs("process-webhook")).toEqual([
      { data: { deliveryId: "refused" }, state: "completed" },
    ]);
  });
});
