/**
 * `npm run bench:nightly`: the nightly delta sync of a big organization where a few repositories
 * changed overnight. The same night is synced twice, each time from a copy of the same database:
 * today's way, a delta per repository (src/sync/delta.ts, one query at least each), and the app's
 * nightly job, which first asks which repositories changed (src/sync/delta-check.ts). Prints the
 * points each spent, per repository, their ratio, and whether each left the database equal to
 * GitHub.
 *
 *   npm run bench:nightly                                 # 5,000 repositories, 5% changed
 *   npm run bench:nightly -- --repos 500 --changed 0.1    # smaller, busier
 *
 * The fake GitHub runs in this process, with GitHub's schema and cost formula and a budget large
 * enough for today's way not to pause. Yesterday's state is stored through the app's own storing
 * code (storePullRequests) from GitHub's answers; the new way runs as the real job in the engine
 * (bench/engine.ts); today's way calls the per-repository delta directly with a client without
 * Octokit's one-GraphQL-request-a-second throttle, which would make 5,000 queries take 83 minutes.
 */
import { isDeepStrictEqual, parseArgs } from "node:util";
import { loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import pino from "pino";
import { withTransaction } from "../src/db/client.js";
import { listTrackedRepositories, upsertRepositories } from "../src/db/queries/repositories.js";
import { installations } from "../src/db/schema/index.js";
import { GitHubClient } from "../src/github/client.js";
import { PulseOctokit } from "../src/github/probot.js";
import { loadQuery, type GqlPullRequest } from "../src/github/queries.js";
import { enqueue } from "../src/queue/boss.js";
import { defaultInstallationSettings } from "../src/settings.js";
import { deltaSyncRepository } from "../src/sync/delta.js";
import { completePullRequests, storePullRequests } from "../src/sync/pull-requests.js";
import type { SyncContext } from "../src/sync/sync-context.js";
import {
  fakeAppJwt,
  startFakeGitHub,
  type FakeGitHub,
  type Repo,
} from "../test/support/fake-github/index.js";
import { executeGraphql } from "../test/support/fake-github/graphql.js";
import { Rng } from "../test/support/fake-github/seed.js";
import { readStoredAndTruth } from "../test/support/github-truth.js";
import { startCluster, startEngine, type Engine } from "./engine.js";
import { runHeader, saveRawFigures } from "./report.js";

const { values } = parseArgs({
  options: {
    repos: { type: "string", default: "5000" },
    /** Share of the repositories with a change overnight. */
    changed: { type: "string", default: "0.05" },
    "prs-per-repo": { type: "string", default: "3" },
    seed: { type: "string", default: "42" },
    "log-level": { type: "string", default: "warn" },
  },
});

const APP_ID = 1;
const LOGIN = "bigorg";
const TARGET_POINTS = 150;
/** Enough for today's way (a point per repository at least) never to wait for a reset. */
const FAKE_BUDGET = 1_000_000;
/** Yesterday's sync ran a day before tonight's; the pull requests were seeded before that. */
const DAY_MS = 86_400_000;
/** One changed repository in this many is busy: more updated pull requests than the check lists. */
const BUSY_ONE_IN = 50;
const BUSY_NEW_PULL_REQUESTS = 12;
/** The app's store and GitHub's nodes(ids:) take at most this many per query. */
const IDS_PER_QUERY = 100;
const JOB_TIMEOUT_MS = 30 * 60_000;

const repoCount = Number(values.repos);
const changedShare = Number(values.changed);
const prsPerRepo = Number(values["prs-per-repo"]);
const seed = Number(values.seed);
const say = (line: string) => console.log(line);
const log = pino({ level: values["log-level"] }, pino.destination(2));

interface RunFigures {
  way: string;
  points: number;
  queries: number;
  /** What the run's sync runs say it found: repositories with updated pull requests, and those. */
  found: { repositories: number; pullRequests: number; drift: number };
  pointsPerRepository: number;
  wallS: number;
  exact: boolean;
  mismatches: string[];
}

const startedAt = new Date();
say(runHeader("nightly", startedAt));
const fake = await startFakeGitHub({ seed, rateLimit: { limit: FAKE_BUDGET, windowSeconds: 3600 } });
const cluster = await startCluster(log);
try {
  // 1. The organization, seeded with the clock two days back, and yesterday's sync of it.
  const seedStart = performance.now();
  fake.world.setNow(new Date(Date.now() - 2 * DAY_MS));
  const seeded = fake.world.seedOrg({
    login: LOGIN,
    repos: repoCount,
    prsPerRepo,
    spanDays: 20,
    appId: APP_ID,
  });
  fake.world.setNow(null);
  const installationId = seeded.installation.id;
  const repos = seeded.repos;
  const repoIds = repos.map((repo) => repo.id);
  const prs = repoIds.reduce((sum, id) => sum + fake.world.listPullRequests(id).length, 0);
  const setupUrl = await cluster.createDatabase("nightly_setup");
  await storeYesterday(setupUrl, installationId, repos);
  const setupS = (performance.now() - seedStart) / 1000;

  // 2. Overnight: a few repositories change, none of it delivered to the app.
  const changes = changeOvernight(fake, repos);
  say(
    `${repoCount.toLocaleString("en-US")} repositories, ${prs.toLocaleString("en-US")} pull requests; ` +
      `${changes.repos} changed overnight (${changes.busy} busy): ${JSON.stringify(changes.events)}; set-up ${setupS.toFixed(0)} s`,
  );

  // 3. The same night, twice, from copies of the same database.
  const todayUrl = await cluster.copyDatabase("nightly_setup", "nightly_today");
  const newUrl = await cluster.copyDatabase("nightly_setup", "nightly_new");
  const today = await runToday(todayUrl, installationId, repoIds);
  const tonight = await runNightlyJob(newUrl, installationId, repoIds);
  report([today, tonight], { repos: repoCount, prs, changes });
  say(
    `load average ${loadavg()
      .map((load) => load.toFixed(2))
      .join(" / ")}`,
  );
  const file = await saveRawFigures("nightly", startedAt, {
    repos: repoCount,
    prs,
    changes,
    runs: [today, tonight],
    targetPoints: TARGET_POINTS,
  });
  say(`raw figures: ${file}`);
  if (!today.exact || !tonight.exact || tonight.points >= TARGET_POINTS) process.exitCode = 1;
} finally {
  await cluster.stop();
  await fake.close();
}

/** Yesterday's nightly sync, as the app stores it: every pull request, repositories complete. */
async function storeYesterday(databaseUrl: string, installationId: number, repos: Repo[]): Promise<void> {
  const engine = await start(databaseUrl);
  try {
    const db = engine.database.db;
    await db.insert(installations).values({
      id: installationId,
      accountId: fake.world.getAccount(LOGIN)!.id,
      accountLogin: LOGIN,
      accountType: "Organization",
      settings: defaultInstallationSettings,
    });
    const facts = repos.map((repo) => ({
      id: repo.id,
      nodeId: repo.nodeId,
      fullName: `${repo.ownerLogin}/${repo.name}`,
    }));
    await upsertRepositories(db, installationId, facts, { track: true });
    const ctx = { boss: engine.boss, installationId, settings: defaultInstallationSettings };
    const client = await unthrottledClient(installationId);
    const yesterday = new Date(Date.now() - DAY_MS);
    for (let start = 0; start < repos.length; start += IDS_PER_QUERY) {
      const batch = repos.slice(start, start + IDS_PER_QUERY);
      const byRepo = await readPullRequests(installationId, batch);
      await withTransaction(engine.database, async (tx) => {
        for (const [repoId, nodes] of byRepo) {
          const snapshots = await completePullRequests(client, nodes);
          await storePullRequests(tx, ctx, repoId, snapshots, { now: yesterday });
        }
      });
    }
    // A watermark as a sync leaves it; nothing of the seeded history is newer.
    await engine.database.sql`
      update repositories set sync_status = 'complete', watermark = ${yesterday.toISOString()}::timestamptz,
        last_successful_sync_at = ${yesterday.toISOString()}::timestamptz, backfilled_since = to_timestamp(0)
      where installation_id = ${installationId}`;
    await drainJobs(engine);
  } finally {
    await engine.stop();
  }
}

/** GitHub's answer for these repositories' pull requests, asked in this process (nothing charged). */
async function readPullRequests(
  installationId: number,
  batch: Repo[],
): Promise<Map<number, GqlPullRequest[]>> {
  const byRepo = new Map<number, GqlPullRequest[]>();
  const all = batch.flatMap((repo) => fake.world.listPullRequests(repo.id));
  for (let start = 0; start < all.length; start += IDS_PER_QUERY) {
    const slice = all.slice(start, start + IDS_PER_QUERY);
    const outcome = await executeGraphql(
      { world: fake.world, urls: fake.urls, installationId, limiter: null },
      { query: loadQuery("pull-requests-by-id"), variables: { ids: slice.map((pr) => pr.nodeId) } },
    );
    const nodes = ((outcome.body["data"] as { nodes: GqlPullRequest[] } | null)?.nodes ?? []).filter(Boolean);
    if (nodes.length !== slice.length) throw new Error(`set-up read ${nodes.length} of ${slice.length}`);
    for (const [index, node] of nodes.entries()) {
      const repoId = slice[index]!.repoId;
      byRepo.set(repoId, [...(byRepo.get(repoId) ?? []), node]);
    }
  }
  return byRepo;
}

/**
 * What happens overnight, decided by a seeded generator: each changed repository has 1 to 3 events
 * (a pull request opened, reviewed, merged, pushed to, or closed); one in BUSY_ONE_IN has a dozen
 * pull requests opened instead.
 */
function changeOvernight(github: FakeGitHub, repos: Repo[]) {
  const rng = new Rng(seed);
  const world = github.world;
  const authors = [...world.users.values()].filter((user) => user.type === "User");
  const events: Record<string, number> = {};
  const count = (event: string) => (events[event] = (events[event] ?? 0) + 1);
  const changed = repos.filter(() => rng.chance(changedShare));
  let busy = 0;
  for (const [index, repo] of changed.entries()) {
    const author = () => rng.pick(authors).id;
    if (index % BUSY_ONE_IN === BUSY_ONE_IN - 1) {
      busy += 1;
      for (let i = 0; i < BUSY_NEW_PULL_REQUESTS; i++)
        world.createPullRequest(repo.id, { authorId: author() });
      count("busy: opened");
      continue;
    }
    for (let i = rng.int(1, 3); i > 0; i--) {
      const open = world.listPullRequests(repo.id).filter((pr) => pr.state === "OPEN");
      const any = world.listPullRequests(repo.id);
      const event = rng.pick(["opened", "reviewed", "merged", "pushed", "closed"] as const);
      if (event === "opened" || any.length === 0) {
        world.createPullRequest(repo.id, { authorId: author(), title: "Opened overnight" });
        count("opened");
      } else if (event === "reviewed" || open.length === 0) {
        world.addReview(rng.pick(any).id, { authorId: author(), state: "APPROVED" });
        count("reviewed");
      } else if (event === "merged") {
        world.mergePullRequest(rng.pick(open).id);
        count("merged");
      } else if (event === "pushed") {
        world.addCommit(rng.pick(open).id);
        count("pushed");
      } else {
        world.closePullRequest(rng.pick(open).id);
        count("closed");
      }
    }
  }
  return { repos: changed.length, busy, events };
}

/** Today's way: a delta per repository, each asking for its first page of pull requests. */
async function runToday(databaseUrl: string, installationId: number, repoIds: number[]): Promise<RunFigures> {
  const engine = await start(databaseUrl);
  try {
    const ctx: SyncContext = {
      database: engine.database,
      boss: engine.boss,
      client: await unthrottledClient(installationId),
      installationId,
      settings: defaultInstallationSettings,
      log,
      now: () => new Date(),
      reservePercent: 0,
    };
    fake.stats.reset();
    const started = performance.now();
    for (const repo of await listTrackedRepositories(engine.database.db, installationId)) {
      await deltaSyncRepository(ctx, repo);
    }
    return await figures("a delta per repository (today)", engine, repoIds, started);
  } finally {
    await engine.stop();
  }
}

/** The app's nightly job, as the schedule queues it for these repositories. */
async function runNightlyJob(
  databaseUrl: string,
  installationId: number,
  repoIds: number[],
): Promise<RunFigures> {
  const engine = await start(databaseUrl);
  try {
    fake.stats.reset();
    const started = performance.now();
    await enqueue(engine.boss, "deltaSync", { installationId, repoIds });
    await drainJobs(engine, ["delta-sync"]);
    return await figures("check first (the nightly job)", engine, repoIds, started);
  } finally {
    await engine.stop();
  }
}

async function figures(way: string, engine: Engine, repoIds: number[], started: number): Promise<RunFigures> {
  const wallS = (performance.now() - started) / 1000;
  const { graphql, graphqlPoints } = fake.stats.snapshot();
  const mismatches = await compareWithGitHub(engine, repoIds);
  const [found] = await engine.database.sql<RunFigures["found"][]>`
    select count(*) filter (where changed > 0)::int as repositories,
           coalesce(sum(changed), 0)::int as "pullRequests", coalesce(sum(drift), 0)::int as drift
    from sync_runs`;
  return {
    way,
    points: graphqlPoints,
    queries: graphql,
    found: found!,
    pointsPerRepository: graphqlPoints / repoIds.length,
    wallS,
    exact: mismatches.length === 0,
    mismatches,
  };
}

/** What differs between the database and the fake's truth, by kind; empty when they are equal. */
async function compareWithGitHub(engine: Engine, repoIds: number[]): Promise<string[]> {
  const { stored, truth } = await readStoredAndTruth(engine.database, fake.world, repoIds);
  return (["pullRequests", "reviews", "commits"] as const).flatMap((kind) =>
    isDeepStrictEqual(stored[kind], truth[kind])
      ? []
      : [`${kind}: ${stored[kind].length} stored, ${truth[kind].length} on GitHub`],
  );
}

function report(runs: RunFigures[], context: { repos: number; prs: number; changes: { repos: number } }) {
  const [today, tonight] = runs as [RunFigures, RunFigures];
  say("");
  say(
    "| | points | queries | points per repository | found (repositories / pull requests / drift) | wall time | database equals GitHub |",
  );
  say("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const run of runs) {
    const { repositories, pullRequests, drift } = run.found;
    say(
      `| ${run.way} | ${run.points.toLocaleString("en-US")} | ${run.queries.toLocaleString("en-US")} | ` +
        `${run.pointsPerRepository.toFixed(4)} | ${repositories} / ${pullRequests} / ${drift} | ` +
        `${run.wallS.toFixed(0)} s | ${run.exact ? "yes" : `NO: ${run.mismatches.join("; ")}`} |`,
    );
  }
  say("");
  say(
    `${context.repos.toLocaleString("en-US")} repositories, ${context.changes.repos} changed: ` +
      `${(today.points / tonight.points).toFixed(1)}× fewer points with the check; ` +
      `target < ${TARGET_POINTS} points: ${tonight.points < TARGET_POINTS ? "met" : "MISSED"} (${tonight.points})`,
  );
}

/** The engine on a database, its clock the real one (the fake's is too). */
function start(databaseUrl: string): Promise<Engine> {
  return startEngine({ databaseUrl, githubHost: fake.host, appId: APP_ID, logLevel: values["log-level"] });
}

/** An installation client as the app builds it, minus Octokit's one GraphQL request a second. */
async function unthrottledClient(installationId: number): Promise<GitHubClient> {
  const response = await fetch(`${fake.url}/api/v3/app/installations/${installationId}/access_tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${fakeAppJwt(APP_ID)}`, accept: "application/vnd.github+json" },
  });
  const { token } = (await response.json()) as { token: string };
  const octokit = new PulseOctokit({
    auth: { token },
    baseUrl: `${fake.url}/api/v3`,
    throttle: { enabled: false },
  });
  return new GitHubClient(octokit, log);
}

/** Waits until no job of these queues (all by default) is waiting or running. */
async function drainJobs(engine: Engine, queues?: string[]): Promise<void> {
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const [row] = await engine.database.sql<{ pending: number }[]>`
      select count(*)::int as pending from pgboss.job
      where state in ('created', 'retry', 'active') and start_after <= now()
        and (${queues ?? null}::text[] is null or name = any(${queues ?? null}::text[]))`;
    if (row!.pending === 0) return;
    await sleep(500);
  }
  throw new Error(`jobs still pending after ${JOB_TIMEOUT_MS / 60_000} minutes`);
}
