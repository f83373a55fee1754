import { expect, it } from "@jest/globals";
import { APP_ID, drainJobs, QUICK_JOBS, RETRIES_INCLUDED, WEBHOOK_SECRET } from "../support/app.js";
import { useAppProcesses } from "../support/app-process.js";
import {
  expectDatabaseToMatchGitHub,
  expectMembersAndRepositoriesToMatchGitHub,
  seedActiveOrg,
  waitForBackfill,
} from "../support/delivery-stream.js";
import { freePort } from "../support/free-port.js";
import { buildWebhook, deliverWebhook, type Webhook, type World } from "../support/fake-github/index.js";
import { waitFor } from "../support/wait.js";

// An outage of the app (kill -9) while the organization works: pull requests opened, pushed to,
// reviewed and merged, a repository added to the installation, a member added, a repository
// renamed, among thousands of other deliveries, every one of them failed at GitHub. After the
// restart, with no redelivery by the test, the app must repair everything by itself: pull request
// events by a delta sync of their repositories, the rest by asking GitHub to redeliver, oldest
// first. What the repair cost GitHub (the fake's counters) is reported.

const f = useAppProcesses({ seed: 53 });
const appId = Number(APP_ID);
const INSTALLATION_ID = 9700;
/** Pull requests opened (and pushed to) and reviews per repository while the app is down. */
const CHANGES_PER_REPOSITORY = 12;
/** Deliveries that fail beside the real changes: enough to need 30-odd pages of GitHub's list. */
const OTHER_FAILED_DELIVERIES = 3_000;

/** GitHub delivering to the App's webhook URL, and recording the attempt (status 0 while down). */
function gitHubSends(world: World) {
  return async (hook: Webhook) => {
    const url = world.hookUrls.get(appId)!;
    const payload = hook.payload;
    return deliverWebhook(
      { url, secret: WEBHOOK_SECRET, name: hook.name, id: hook.id, payload, appId },
      { world },
    );
  };
}

/** What the organization does while the app is down, and the deliveries GitHub tries to make. */
function workWhileDown(world: World, repoIds: number[]): Webhook[] {
  const org = world.accounts.get(world.getInstallation(INSTALLATION_ID)!.accountId)!;
  const [author, reviewer] = org.memberIds;
  const hooks: Webhook[] = [];
  const open = (repoId: number, title: string) => {
    const pr = world.createPullRequest(repoId, { authorId: author!, title });
    world.addCommit(pr.id);
    hooks.push(buildWebhook(world, "pull_request", "opened", { prId: pr.id }));
    return pr;
  };
  // Pull requests opened and pushed to; existing ones reviewed, and some merged.
  for (const repoId of repoIds) {
    const existing = world.listPullRequests(repoId).filter((pr) => pr.state === "OPEN");
    for (let i = 0; i < CHANGES_PER_REPOSITORY; i += 1) {
      const opened = open(repoId, `Opened during the outage ${i}`);
      world.addCommit(opened.id, { message: "Pushed during the outage" });
      hooks.push(buildWebhook(world, "pull_request", "synchronize", { prId: opened.id }));
      const pr = existing[i % existing.length]!;
      const review = world.addReview(pr.id, { authorId: reviewer!, state: "APPROVED" });
      hooks.push(
        buildWebhook(world, "pull_request_review", "submitted", { prId: pr.id, reviewId: review.id }),
      );
      if (i < existing.length && i % 2 === 0) {
        world.mergePullRequest(pr.id);
        hooks.push(buildWebhook(world, "pull_request", "closed", { prId: pr.id }));
      }
    }
  }
  // A repository added to the installation, with pull requests of its own.
  const added = world.addRepo(INSTALLATION_ID, {
    name: "added-during-outage",
    createdAt: "2026-01-01T00:00:00Z",
  });
  hooks.push(
    buildWebhook(world, "installation_repositories", "added", {
      installationId: INSTALLATION_ID,
      repoIds: [added.id],
    }),
  );
  for (let i = 0; i < 8; i += 1) open(added.id, `New repository's change ${i}`);
  // A member added.
  const newcomer = world.addUser({ login: "newcomer-outage", name: "New Comer", email: "new@outage.test" });
  world.addMember(org.login, newcomer.id);
  hooks.push(
    buildWebhook(world, "organization", "member_added", {
      installationId: INSTALLATION_ID,
      userId: newcomer.id,
    }),
  );
  // A repository renamed.
  world.renameRepo(repoIds[0]!, "renamed-during-outage");
  hooks.push(
    buildWebhook(world, "repository", "renamed", {
      repoId: repoIds[0]!,
      changes: { repository: { name: { from: "original" } } },
    }),
  );
  return hooks;
}

/** Thousands of other deliveries GitHub fails to make meanwhile: edits of the existing pull requests. */
function otherDeliveries(world: World, repoIds: number[]): Webhook[] {
  const prs = repoIds.flatMap((repoId) => world.listPullRequests(repoId));
  return Array.from({ length: OTHER_FAILED_DELIVERIES }, (_, i) =>
    buildWebhook(world, "pull_request", "edited", { prId: prs[i % prs.length]!.id }),
  );
}

async function sendAll(hooks: readonly Webhook[], send: (hook: Webhook) => Promise<{ status: number }>) {
  let next = 0;
  const statuses: number[] = [];
  const worker = async () => {
    while (next < hooks.length) statuses.push((await send(hooks[next++]!)).status);
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return statuses;
}

/** True once `check` passes; its failure message is what a timeout reports. */
function passes(check: () => Promise<void>): () => Promise<boolean> {
  return async () => {
    try {
      await check();
      return true;
    } catch {
      return false;
    }
  };
}

it("repairs an outage by itself: pull requests by delta sync, other events redelivered oldest first, and reports the cost", async () => {
  const { database, github } = f;
  const world = github.world;
  const { repoIds } = seedActiveOrg(
    world,
    { login: "outage", installationId: INSTALLATION_ID, repos: 4, prsPerRepo: 25, members: 6 },
    () => false,
  );
  // The App's webhook URL: one port, for the process before the outage and the one after it. No
  // weekly-metrics debounce and a look at the queues every second (QUICK_JOBS): the kill comes after
  // a drain, so it holds no job, and the drains wait for no timer.
  const port = String(await freePort());
  const env = { PORT: port, ...QUICK_JOBS };
  world.hookUrls.set(appId, `http://127.0.0.1:${port}/api/github/webhooks`);
  const send = gitHubSends(world);

  // 1. Installed and backfilled; then the app dies.
  const first = await f.start(env);
  await f.supervise();
  expect(
    (await send(buildWebhook(world, "installation", "created", { installationId: INSTALLATION_ID }))).status,
  ).toBe(202);
  await waitForBackfill(database, repoIds, "complete", { timeoutMs: 60_000, what: "the first backfill" });
  await drainJobs(database, undefined, 60_000);
  await first.kill("SIGKILL");

  // 2. The world changes while the app is down; every delivery fails.
  const changes = workWhileDown(world, repoIds);
  const others = otherDeliveries(world, repoIds);
  const statuses = await sendAll([...changes, ...others], send);
  expect(statuses.filter((status) => status !== 0)).toEqual([]);
  const allRepoIds = world.getInstallation(INSTALLATION_ID)!.repoIds;
  await expect(expectDatabaseToMatchGitHub(database, world, allRepoIds)).rejects.toThrow();

  // 3. Restarted. Nothing is redelivered by the test: the app repairs the outage itself.
  github.stats.reset();
  const restartedAt = Date.now();
  const restarted = await f.start(env);
  const equal = passes(async () => {
    await expectDatabaseToMatchGitHub(database, world, allRepoIds);
    await expectMembersAndRepositoriesToMatchGitHub(database, world, INSTALLATION_ID);
  });
  await waitFor(equal, { timeoutMs: 120_000, intervalMs: 500, what: "the database to equal GitHub's data" });
  const repairedInMs = Date.now() - restartedAt;
  await drainJobs(database, undefined, 60_000, RETRIES_INCLUDED);
  await expectDatabaseToMatchGitHub(database, world, allRepoIds);
  await expectMembersAndRepositoriesToMatchGitHub(database, world, INSTALLATION_ID);

  // 4. Pull request events were never redelivered; the others were, once each, oldest first.
  const redelivered = world.hookDeliveries.filter((attempt) => attempt.redelivery);
  const notPullRequests = changes.filter((hook) => !hook.name.startsWith("pull_request"));
  expect(redelivered.map((attempt) => attempt.guid)).toEqual(notPullRequests.map((hook) => hook.id));
  expect(await database.sql`select status from webhook_deliveries where status <> 'processed'`).toEqual([]);
  expect(await database.sql`select name, state from pgboss.job where state = 'failed'`).toEqual([]);
  expect((await restarted.get("/readyz")).status).toBe(200);

  const cost = github.stats.snapshot();
  const failed = changes.length + others.length;
  console.info(
    [
      `outage repair: ${failed} failed deliveries (${changes.length} real changes), equal to GitHub ${(repairedInMs / 1000).toFixed(1)} s after the restart`,
      `  redeliveries requested: ${redelivered.length}; GitHub calls: ${cost.rest} REST, ${cost.graphql} GraphQL (${cost.graphqlPoints} points)`,
      `  REST by route: ${JSON.stringify(cost.byRoute)}`,
    ].join("\n"),
  );
}, 240_000);
