import { withTransaction } from "../db/client.js";
import type { Repository } from "../db/schema/index.js";
import { RateLimitedError } from "../errors.js";
import type { GqlPullRequest } from "../github/queries.js";
import type { ChangedRepository } from "./delta-check.js";
import { recordDeltas, type FinishedRepositoryDelta } from "./delta.js";
import {
  completePullRequests,
  fetchPullRequestsById,
  storePullRequests,
  type PullRequestSnapshot,
} from "./pull-requests.js";
import type { SyncContext } from "./sync-context.js";

/**
 * A pull request's reviews, commits, timelineItems and labels are 4 connections: 33 pull requests
 * are 132 requests, which GitHub's formula rounds to 1 point, and a page no bigger than a backfill's.
 */
const PULL_REQUESTS_PER_QUERY = 33;

/** Changed repositories whose pull requests are fetched by one query, with the answer. */
interface Pack {
  repos: ChangedRepository[];
  fetched: Map<string, GqlPullRequest | null>;
}

/**
 * The changed repositories' updated pull requests, by id, whole repositories packed into queries of
 * up to 33 pull requests; each query's repositories are stored and recorded as synced together,
 * telling `onSynced`. Returns the repositories that need a full delta instead: one with a pull
 * request GitHub did not return, or whose query failed. A rate limit throws RateLimitedError.
 */
export async function syncChangedPullRequests(
  ctx: SyncContext,
  changed: ChangedRepository[],
  onSynced: (deltas: FinishedRepositoryDelta[]) => void,
): Promise<Repository[]> {
  const full: Repository[] = [];
  for (const repos of packRepositories(changed)) {
    const pack = await fetchPack(ctx, repos);
    const ready: ReadyDelta[] = [];
    for (const entry of pack.repos) {
      const delta = await completeRepository(ctx, pack, entry);
      if (delta) ready.push(delta);
      else full.push(entry.repo);
    }
    await storeDeltas(ctx, ready);
    onSynced(ready.map(({ delta }) => delta));
  }
  return full;
}

/** A repository's updated pull requests, complete, with what its delta found so far. */
interface ReadyDelta {
  delta: FinishedRepositoryDelta;
  snapshots: PullRequestSnapshot[];
  checkedAt: Date;
}

/** Every updated pull request of the repository, complete; undefined when one is missing. */
async function completeRepository(
  ctx: SyncContext,
  pack: Pack,
  entry: ChangedRepository,
): Promise<ReadyDelta | undefined> {
  const prs = entry.pullRequestIds.map((id) => pack.fetched.get(id) ?? null);
  if (!prs.every((pr) => pr !== null)) return undefined;
  const queriesBefore = ctx.client.spent.graphqlCalls;
  const snapshots = await completeOrGiveUp(ctx, prs);
  if (!snapshots) return undefined;
  // The check, the pack's query, and the pages past 100 reviews or commits.
  const queries = 2 + ctx.client.spent.graphqlCalls - queriesBefore;
  const result = { changed: snapshots.length, drift: 0, queries };
  return { delta: { repo: entry.repo, result }, snapshots, checkedAt: entry.checkedAt };
}

/** Whole repositories per query, in order, up to PULL_REQUESTS_PER_QUERY pull requests each. */
function packRepositories(changed: ChangedRepository[]): ChangedRepository[][] {
  const packs: ChangedRepository[][] = [];
  let current: ChangedRepository[] = [];
  let size = 0;
  for (const entry of changed) {
    if (current.length > 0 && size + entry.pullRequestIds.length > PULL_REQUESTS_PER_QUERY) {
      packs.push(current);
      current = [];
      size = 0;
    }
    current.push(entry);
    size += entry.pullRequestIds.length;
  }
  if (current.length > 0) packs.push(current);
  return packs;
}

/** One query for a pack's pull requests; a failure other than a rate limit answers none of them. */
async function fetchPack(ctx: SyncContext, repos: ChangedRepository[]): Promise<Pack> {
  const ids = repos.flatMap((entry) => entry.pullRequestIds);
  try {
    const prs = await fetchPullRequestsById(ctx, ids);
    return { repos, fetched: new Map(ids.map((id, index) => [id, prs[index] ?? null])) };
  } catch (error) {
    if (error instanceof RateLimitedError) throw error;
    ctx.log.warn(
      { err: error, repos: repos.length },
      "changed pull requests not fetched; full delta instead",
    );
    return { repos, fetched: new Map() };
  }
}

/** Reviews and commits past the first 100; undefined when that failed (a full delta follows). */
async function completeOrGiveUp(
  ctx: SyncContext,
  prs: GqlPullRequest[],
): Promise<PullRequestSnapshot[] | undefined> {
  try {
    return await completePullRequests(ctx.client, prs);
  } catch (error) {
    if (error instanceof RateLimitedError) throw error;
    ctx.log.warn({ err: error }, "long lists not completed; full delta instead");
    return undefined;
  }
}

/**
 * A pack's repositories stored and recorded in one transaction, so none is half synced. Every pull
 * request first, then the repositories in id order: the order a webhook batch and a backfill page
 * lock them in (pull requests, then repositories), so none of them deadlocks with this one.
 */
async function storeDeltas(ctx: SyncContext, ready: ReadyDelta[]): Promise<void> {
  const now = ctx.now();
  await withTransaction(ctx.database, async (db) => {
    for (const { delta, snapshots } of ready) {
      const stored = await storePullRequests(db, ctx, delta.repo.id, snapshots, { now, countDrift: true });
      delta.result.drift = stored.drift;
    }
    for (const { delta, checkedAt } of [...ready].sort((a, b) => a.delta.repo.id - b.delta.repo.id)) {
      await recordDeltas(db, ctx, [delta], checkedAt);
    }
  });
}
