import { expect } from "@jest/globals";
import { and, asc, eq, inArray, isNull } from "drizzle-orm";
import type { Database } from "../../src/db/client.js";
import * as schema from "../../src/db/schema/index.js";
import { APP_ID, type TestApp } from "./app.js";
import type { AppProcess } from "./app-process.js";
import { buildWebhook, type PullRequest, type Webhook, type World } from "./fake-github/index.js";
import { readStoredAndTruth } from "./github-truth.js";
import { waitFor } from "./wait.js";

/**
 * What GitHub sends while an organization works: the installation first, then each of these pull
 * requests opened (and closed or merged) and its submitted reviews, built from the fake GitHub's
 * world. The order after the installation is shuffled with a fixed seed, so a failure reproduces.
 */
export function buildActivity(
  world: World,
  installationId: number,
  pullRequests: readonly PullRequest[],
): Webhook[] {
  return [
    buildWebhook(world, "installation", "created", { installationId }),
    ...shuffle(buildPullRequestActivity(world, pullRequests), 42),
  ];
}

/**
 * The deliveries of these pull requests, in order: each one opened, closed or merged unless still
 * open, and its submitted reviews.
 */
export function buildPullRequestActivity(world: World, pullRequests: readonly PullRequest[]): Webhook[] {
  const hooks: Webhook[] = [];
  for (const pr of pullRequests) {
    hooks.push(buildWebhook(world, "pull_request", "opened", { prId: pr.id }));
    if (pr.state !== "OPEN") hooks.push(buildWebhook(world, "pull_request", "closed", { prId: pr.id }));
    for (const review of pr.reviews.filter((r) => r.state !== "PENDING")) {
      hooks.push(
        buildWebhook(world, "pull_request_review", "submitted", { prId: pr.id, reviewId: review.id }),
      );
    }
  }
  return hooks;
}

/**
 * Installs the App as GitHub does: the fake's installation.created for this installation, delivered
 * to the in-process app, which accepts it (202). The jobs it starts are left to run.
 */
export async function deliverInstallationCreated(
  app: Pick<TestApp, "deliver">,
  world: World,
  installationId: number,
): Promise<void> {
  const hook = buildWebhook(world, "installation", "created", { installationId });
  expect((await app.deliver(hook.name, hook.payload, { id: hook.id })).status).toBe(202);
}

/**
 * An organization in the fake GitHub with the App installed (pull requests with 0-3 reviews and
 * 1-3 commits over 20 days), and what GitHub sends while it works: buildActivity for the pull
 * requests `pick` keeps (all by default).
 */
export function seedActiveOrg(
  world: World,
  options: { login: string; installationId: number; repos: number; prsPerRepo: number; members: number },
  pick: (pr: PullRequest, index: number) => boolean = () => true,
) {
  const { repos } = world.seedOrg({
    ...options,
    reviewsPerPr: [0, 3],
    commitsPerPr: [1, 3],
    spanDays: 20,
    appId: Number(APP_ID),
  });
  const repoIds = repos.map((repo) => repo.id);
  const pullRequests = repoIds.flatMap((id) => world.listPullRequests(id));
  const hooks = buildActivity(world, options.installationId, pullRequests.filter(pick));
  return { repos, repoIds, pullRequests, hooks };
}

/** Deterministic shuffle (seeded). */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const result = [...items];
  let state = seed;
  for (let i = result.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

/** Every answer intake gave, per delivery: the GitHub side of "was it acknowledged?". */
export class DeliveryLog {
  readonly #statuses = new Map<string, number[]>();

  record(hook: Webhook, status: number): void {
    this.#statuses.set(hook.id, [...(this.#statuses.get(hook.id) ?? []), status]);
  }

  statusesOf(id: string): number[] {
    return this.#statuses.get(id) ?? [];
  }

  acknowledgedCount(): number {
    return [...this.#statuses.values()].filter((statuses) => statuses.some(isAcknowledged)).length;
  }

  acknowledged(id: string): boolean {
    return (this.#statuses.get(id) ?? []).some(isAcknowledged);
  }

  /** Deliveries sent at least once that never got a 2xx: what GitHub would list as failed. */
  failed(hooks: readonly Webhook[]): Webhook[] {
    return hooks.filter((hook) => this.#statuses.has(hook.id) && !this.acknowledged(hook.id));
  }

  statuses(): number[] {
    return [...this.#statuses.values()].flat();
  }
}

export const isAcknowledged = (status: number): boolean => status >= 200 && status < 300;

/**
 * Sends `hooks` in order with `concurrency` requests in flight, each through `send` (which picks
 * the receiving process), and records the answers.
 */
export async function sendDeliveries(
  hooks: readonly Webhook[],
  send: (hook: Webhook, index: number) => Promise<number>,
  log: DeliveryLog,
  options: { concurrency: number },
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < hooks.length) {
      const index = next++;
      const hook = hooks[index]!;
      log.record(hook, await send(hook, index));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
}

/**
 * Plays GitHub's part after a failure: sends again every delivery that never got a 2xx (GitHub
 * redelivers failed deliveries when asked to), until each is acknowledged.
 */
export async function redeliverFailed(
  hooks: readonly Webhook[],
  send: (hook: Webhook) => Promise<number>,
  log: DeliveryLog,
  rounds = 5,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const failed = log.failed(hooks);
    if (failed.length === 0) return;
    for (const hook of failed) log.record(hook, await send(hook));
  }
  expect(log.failed(hooks).map((hook) => hook.id)).toEqual([]);
}

/**
 * The database holds exactly GitHub's pull requests, reviews and commits for these repositories:
 * every one GitHub lists, with GitHub's values, and nothing else (so nothing twice).
 */
export async function expectDatabaseToMatchGitHub(
  database: Pick<Database, "db">,
  world: World,
  repoIds: readonly number[],
): Promise<void> {
  const { stored, truth } = await readStoredAndTruth(database, world, repoIds);
  expect(stored.pullRequests).toEqual(truth.pullRequests);
  expect(stored.reviews).toEqual(truth.reviews);
  expect(stored.commits).toEqual(truth.commits);
}

/**
 * The installation's repositories (with their current names) and its organization's members are
 * GitHub's: the repositories it can see, none more, and the active members.
 */
export async function expectMembersAndRepositoriesToMatchGitHub(
  database: Pick<Database, "db">,
  world: World,
  installationId: number,
): Promise<void> {
  const installation = world.getInstallation(installationId)!;
  const repositories = await database.db
    .select({ id: schema.repositories.id, fullName: schema.repositories.fullName })
    .from(schema.repositories)
    .where(and(eq(schema.repositories.installationId, installationId), isNull(schema.repositories.removedAt)))
    .orderBy(asc(schema.repositories.id));
  expect(repositories).toEqual(
    [...installation.repoIds]
      .sort((a, b) => a - b)
      .map((id) => world.getRepo(id)!)
      .map((repo) => ({ id: repo.id, fullName: `${repo.ownerLogin}/${repo.name}` })),
  );
  const members = await database.db
    .select({ userId: schema.members.userId, login: schema.members.login })
    .from(schema.members)
    .where(and(eq(schema.members.installationId, installationId), eq(schema.members.active, true)))
    .orderBy(asc(schema.members.userId));
  expect(members).toEqual(
    [...world.accounts.get(installation.accountId)!.memberIds]
      .sort((a, b) => a - b)
      .map((id) => ({ userId: id, login: world.getUser(id)!.login })),
  );
}

/**
 * Each delivery stored once and processed once by one job: `attempts` counts the times processing
 * finished, so a delivery two processes handled would show 2.
 */
export async function expectEachDeliveryProcessedOnce(
  database: Pick<Database, "db" | "sql">,
  hooks: readonly Webhook[],
): Promise<void> {
  const deliveries = await database.db
    .select()
    .from(schema.webhookDeliveries)
    .where(
      inArray(
        schema.webhookDeliveries.id,
        hooks.map((hook) => hook.id),
      ),
    );
  expect(deliveries).toHaveLength(hooks.length);
  expect(deliveries.filter((row) => row.status !== "processed" || row.attempts !== 1)).toEqual([]);
  expect(
    await database.sql`
      select delivery, count(*)::int as jobs
      from pgboss.job, jsonb_array_elements_text(coalesce(data->'deliveryIds', jsonb_build_array(data->'deliveryId'))) as delivery
      where name = 'process-webhook' group by 1 having count(*) > 1`,
  ).toEqual([]);
}

/** The process's open Postgres sessions, by their application_name. */
export async function countSessions(
  database: Pick<Database, "sql">,
  app: Pick<AppProcess, "applicationName">,
): Promise<number> {
  const [row] = await database.sql<{ sessions: number }[]>`
    select count(*)::int as sessions from pg_stat_activity
    where application_name in (${app.applicationName}, ${`${app.applicationName}-jobs`})`;
  return row?.sessions ?? 0;
}

/**
 * The ids of the jobs claimed once a killed process's Postgres sessions are gone: what it leaves
 * behind. A claim it had already sent may still be committed after the kill (Postgres reads the
 * dead socket to its end), so the list waits for its sessions to end.
 */
export async function listClaimedJobs(
  database: Pick<Database, "sql">,
  killed: Pick<AppProcess, "applicationName">,
): Promise<string[]> {
  await waitFor(async () => (await countSessions(database, killed)) === 0, {
    what: "the killed process's Postgres sessions to end",
  });
  const rows = await database.sql<{ id: string }[]>`select id from pgboss.job where state = 'active'`;
  return rows.map((row) => row.id);
}

/** Every job completed, at its first attempt but those a fault interrupted; none failed. */
export async function expectEachJobRanOnce(
  database: Pick<Database, "sql">,
  interrupted: readonly string[],
): Promise<void> {
  // With what ended an attempt (pg-boss keeps a failed attempt's error as the job's output).
  const rerun = await database.sql<{ id: string; name: string; state: string; output: unknown }[]>`
    select id, name, state, output from pgboss.job
    where (retry_count > 0 and not id = any(${interrupted}::uuid[])) or state <> 'completed'`;
  expect(rerun).toEqual([]);
}

/**
 * Waits until the backfill of these repositories is "under way" (one of them has stored pages and
 * is still syncing: the moment to interrupt it) or "complete" (every one of them), and returns
 * their rows as they were then.
 */
export async function waitForBackfill(
  database: Pick<Database, "db">,
  repoIds: readonly number[],
  until: "under way" | "complete",
  options: { timeoutMs: number; what: string },
): Promise<(typeof schema.repositories.$inferSelect)[]> {
  return waitFor(async () => {
    const rows = await database.db
      .select()
      .from(schema.repositories)
      .where(inArray(schema.repositories.id, [...repoIds]));
    const reached =
      until === "under way"
        ? rows.some((row) => row.prsDone > 0 && row.syncStatus === "syncing")
        : rows.length === repoIds.length && rows.every((row) => row.syncStatus === "complete");
    return reached ? rows : undefined;
  }, options);
}

/**
 * The backfill counted each pull request once: every repository's `prs_done` is GitHub's number of
 * pull requests for it, pages committed before a fault never counted again after it.
 */
export async function expectEachPullRequestCountedOnce(
  database: Pick<Database, "db">,
  world: World,
  repoIds: readonly number[],
): Promise<void> {
  const repositories = await database.db.select().from(schema.repositories);
  expect(repositories.map((row) => [row.id, row.prsDone]).sort()).toEqual(
    repoIds.map((id) => [id, world.listPullRequests(id).length]).sort(),
  );
}
