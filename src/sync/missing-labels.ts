import { withTransaction } from "../db/client.js";
import { listPullRequestsWithoutLabels, recordNoLabels } from "../db/queries/pull-requests.js";
import type { GqlPullRequest } from "../github/queries.js";
import { completePullRequests, lookUpPullRequestsById, storePullRequests } from "./pull-requests.js";
import type { SyncContext } from "./sync-context.js";

/**
 * Pull requests stored before labels were (db/0014) have labels null, counted as none, and keep
 * them until they change on GitHub: an old pull request labeled skip-metrics would count in every
 * figure for ever. So a delta sync, once its repositories are synced, fetches a bounded number of
 * them again by id, newest first, and stores them as any sync does: the labels land, the exclusion
 * is derived again, and the weeks they count in are marked for the weekly refresh. The next run
 * goes on where this one stopped; with none left it asks GitHub nothing.
 */

/**
 * As many as the delta fetches of changed pull requests (delta-fetch.ts): a page no bigger than a
 * backfill's. With the labels, a pull request is 4 requests (reviews, commits, timelineItems,
 * labels): 132 requests, which GitHub's formula rounds to 1 point.
 */
const PULL_REQUESTS_PER_QUERY = 33;

export interface LabelsRead {
  /** Pull requests fetched again and stored with their labels. */
  read: number;
  /** Pull requests GitHub no longer has: recorded without labels, never asked for again. */
  gone: number;
}

/**
 * Reads the labels of up to `limit` of these repositories' pull requests stored without them,
 * newest first (the weeks people look at), a query of 33 at a time, each query's answer stored
 * before the next is asked, so a rate limit or a failure keeps what was read. Below the
 * rate-limit reserve it throws RateLimitedError instead of spending it.
 */
export async function readMissingLabels(
  ctx: SyncContext,
  repoIds: number[],
  limit: number,
): Promise<LabelsRead> {
  const result: LabelsRead = { read: 0, gone: 0 };
  const missing = await listPullRequestsWithoutLabels(ctx.database.db, ctx.installationId, repoIds, limit);
  for (let start = 0; start < missing.length; start += PULL_REQUESTS_PER_QUERY) {
    const batch = missing.slice(start, start + PULL_REQUESTS_PER_QUERY);
    const answers = await lookUpPullRequestsById(
      ctx,
      batch.map((pr) => pr.nodeId),
    );
    const found = new Map<number, GqlPullRequest[]>();
    const gone: number[] = [];
    for (const [index, answer] of answers.entries()) {
      const { id, repoId } = batch[index]!;
      // Anything else GitHub could not answer (null) stays unknown, asked again on the next run.
      if (answer === "not_found") gone.push(id);
      else if (answer) found.set(repoId, [...(found.get(repoId) ?? []), answer]);
    }
    for (const [repoId, prs] of found) {
      const snapshots = await completePullRequests(ctx.client, prs);
      // A transaction a repository; pull requests locked first, as every writer locks them.
      const stored = await withTransaction(ctx.database, (db) =>
        storePullRequests(db, ctx, repoId, snapshots, { now: ctx.now() }),
      );
      result.read += stored.written.length;
    }
    await recordNoLabels(ctx.database.db, ctx.installationId, gone);
    result.gone += gone.length;
  }
  return result;
}
