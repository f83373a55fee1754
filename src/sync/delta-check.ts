import { withTransaction } from "../db/client.js";
import type { Repository } from "../db/schema/index.js";
import { RateLimitedError } from "../errors.js";
import { failedNodeIndexes } from "../github/client.js";
import { recordDeltas, type FinishedRepositoryDelta } from "./delta.js";
import { MAX_NODE_IDS } from "./page-size.js";
import { present } from "./pull-requests.js";
import type { SyncContext } from "./sync-context.js";
import { isSinceWatermark } from "./watermark.js";

/**
 * Before any repository's delta, one question for a hundred repositories at a time: which pull
 * requests were updated since each one's watermark? Most repositories of a big org are quiet on any
 * night; a full delta costs each of them a point to learn that, the check a hundredth of one.
 */

/**
 * Pull requests the check lists per repository, newest update first. The check costs one request
 * per repository whatever this is; it only bounds the answer's size. A repository with this many
 * updated since its watermark may have more: it gets a full delta, which pages on.
 */
const PULL_REQUESTS_LISTED = 10;
/** A check of a lone repository costs the point its full delta costs, and saves nothing. */
const MIN_REPOSITORIES_TO_CHECK = 2;

/** A repository the check found changed: every pull request updated since its watermark. */
export interface ChangedRepository {
  repo: Repository;
  pullRequestIds: string[];
  /** When the check read GitHub: the new watermark trails it. */
  checkedAt: Date;
}

export interface CheckOutcome {
  changed: ChangedRepository[];
  /** Busy repositories, and those the check could not answer for: a full delta each. */
  full: Repository[];
}

/**
 * The repositories a check may answer for; the rest get a full delta: those the outage repair
 * marked (src/webhooks/recovery.ts), and a lone repository.
 */
export function splitForCheck(repos: Repository[]): { check: Repository[]; full: Repository[] } {
  const check = repos.filter((repo) => !repo.deltaRequestedAt && repo.nodeId);
  if (check.length < MIN_REPOSITORIES_TO_CHECK) return { check: [], full: repos };
  const checked = new Set(check);
  return { check, full: repos.filter((repo) => !checked.has(repo)) };
}

/**
 * Asks which repositories changed, a hundred a query, and records each query's unchanged
 * repositories as synced at once, telling `onSynced`. A rate limit throws RateLimitedError; any
 * other failure leaves its repositories to a full delta.
 */
export async function checkRepositories(
  ctx: SyncContext,
  repos: Repository[],
  onSynced: (deltas: FinishedRepositoryDelta[]) => void,
): Promise<CheckOutcome> {
  const outcome: CheckOutcome = { changed: [], full: [] };
  for (let start = 0; start < repos.length; start += MAX_NODE_IDS) {
    const batch = repos.slice(start, start + MAX_NODE_IDS);
    const checkedAt = ctx.now();
    const updated = await listUpdatedPullRequests(ctx, batch);
    const unchanged: Repository[] = [];
    for (const repo of batch) {
      const ids = updated.get(repo.id);
      if (ids === undefined || ids.length >= PULL_REQUESTS_LISTED) outcome.full.push(repo);
      else if (ids.length === 0) unchanged.push(repo);
      else outcome.changed.push({ repo, pullRequestIds: ids, checkedAt });
    }
    const quiet = unchanged.map((repo) => ({ repo, result: { changed: 0, drift: 0, queries: 1 } }));
    await withTransaction(ctx.database, (db) => recordDeltas(db, ctx, quiet, checkedAt));
    onSynced(quiet);
  }
  return outcome;
}

/**
 * One query: the pull requests of each repository updated since its watermark, by repository id
 * (up to PULL_REQUESTS_LISTED of them). A repository GitHub did not answer for (not visible any
 * more, or an error about it) is left out.
 */
async function listUpdatedPullRequests(
  ctx: SyncContext,
  batch: Repository[],
): Promise<Map<number, string[]>> {
  const updated = new Map<number, string[]>();
  ctx.client.assertBudget(ctx.reservePercent);
  let answer;
  try {
    answer = await ctx.client.graphqlPartial("repositories-changed", {
      ids: batch.map((repo) => repo.nodeId!),
      first: PULL_REQUESTS_LISTED,
    });
  } catch (error) {
    if (error instanceof RateLimitedError) throw error;
    ctx.log.warn(
      { err: error, repos: batch.length },
      "change check failed; its repositories get a full delta",
    );
    return updated;
  }
  const failed = failedNodeIndexes(answer.errors);
  if (!failed) return updated;
  for (const [index, repo] of batch.entries()) {
    const node = answer.data.nodes[index];
    if (failed.has(index) || !node || !("pullRequests" in node)) continue;
    const listed = node.pullRequests.nodes ?? [];
    const prs = listed.filter(present);
    // A pull request GitHub could not show is one the check cannot vouch for.
    if (prs.length < listed.length) continue;
    updated.set(
      repo.id,
      prs.filter((pr) => isSinceWatermark(pr.updatedAt, repo.watermark!)).map((pr) => pr.id),
    );
  }
  return updated;
}
