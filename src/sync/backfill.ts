import { withTransaction } from "../db/client.js";
import { updateRepository } from "../db/queries/repositories.js";
import type { Repository } from "../db/schema/index.js";
import type { GqlPullRequest, RepositoryPullRequestsResult } from "../github/queries.js";
import { NotFoundError } from "../errors.js";
import { syncDepthToDays } from "../settings.js";
import { withAdaptivePageSize } from "./page-size.js";
import { completePullRequest, saveSnapshots, snapshotRows } from "./pull-request-snapshot.js";
import type { SyncContext } from "./sync-context.js";
import { enqueueWeeklyRefresh } from "./weekly.js";

const DAY_MS = 86_400_000;
/** backfilled_since when the whole history is in: nothing older exists. */
export const BEGINNING_OF_TIME = new Date(0);

export function backfillCutoff(
  repo: Pick<Repository, "syncDepth">,
  defaultDepth: Repository["syncDepth"],
  now: Date,
): Date | null {
  const days = syncDepthToDays(repo.syncDepth ?? defaultDepth ?? "30d");
  return days === null ? null : new Date(now.getTime() - days * DAY_MS);
}

/** True when the stored history already reaches back to the cutoff (or to the first PR). */
export function isBackfillCovered(backfilledSince: Date | null, cutoff: Date | null): boolean {
  if (!backfilledSince) return false;
  if (backfilledSince.getTime() === BEGINNING_OF_TIME.getTime()) return true;
  return cutoff !== null && backfilledSince.getTime() <= cutoff.getTime();
}

export type BackfillStep = "more" | "done";

/**
 * One page of a repository's backfill, newest pull requests first (by creation), with every
 * review and commit. The cursor is saved with the page's rows, so a crash resumes at the next
 * page. The cursor is kept when the depth is reached, so deepening it later continues from there
 * instead of fetching the covered window again.
 */
export async function backfillPage(ctx: SyncContext, repo: Repository): Promise<BackfillStep> {
  const now = ctx.now();
  const cutoff = backfillCutoff(repo, ctx.settings.defaultSyncDepth, now);
  if (isBackfillCovered(repo.backfilledSince, cutoff)) {
    // Nothing to fetch (say, the depth was shortened): the repository is as complete as it was.
    if (repo.syncStatus !== "complete") {
      await updateRepository(ctx.database.db, repo.id, {
        syncStatus: "complete",
        syncFinishedAt: now,
        pausedUntil: null,
      });
    }
    return "done";
  }
  if (!repo.nodeId) throw new NotFoundError(`repository ${repo.id} has no node id`);

  // 1. Keep the reserve for webhooks: below it, pause until the budget resets.
  ctx.client.assertBudget(ctx.reservePercent);

  // 2. Fetch a page, shrinking it while GitHub times out.
  const after = repo.backfillCursor;
  const { result, nextPageSize } = await withAdaptivePageSize(repo.pageSize, (size) =>
    ctx.client.graphql<RepositoryPullRequestsResult>(
      "repository-pull-requests",
      { repoId: repo.nodeId, first: size, after, orderBy: "CREATED_AT" },
      { retries: 0 },
    ),
  );
  if (!result.node) throw new NotFoundError(`repository ${repo.fullName} is not visible to the installation`);
  const connection = result.node.pullRequests;
  const nodes = connection.nodes.filter((node): node is GqlPullRequest => node !== null);

  // 3. Keep the pull requests inside the window and follow their long review/commit lists.
  const inWindow = cutoff ? nodes.filter((pr) => new Date(pr.createdAt) >= cutoff) : nodes;
  const reachedCutoff = inWindow.length < nodes.length;
  const snapshots = [];
  for (const pr of inWindow) snapshots.push(await completePullRequest(ctx.client, pr));
  const rows = snapshots.map((snapshot) =>
    snapshotRows(snapshot, ctx.installationId, repo.id, ctx.settings, now),
  );

  // 4. Save rows, progress and cursor together.
  const finished = reachedCutoff || !connection.pageInfo.hasNextPage;
  const prsDone = repo.prsDone + inWindow.length;
  await withTransaction(ctx.database, async (db) => {
    await saveSnapshots(db, rows);
    await enqueueWeeklyRefresh(
      ctx.boss,
      db,
      ctx.installationId,
      ctx.settings.timezone,
      rows.map((row) => row.pullRequest),
    );
    await updateRepository(db, repo.id, {
      pageSize: nextPageSize,
      prsDone,
      prsTotal: finished ? prsDone : estimateTotal(prsDone, connection.totalCount, inWindow, cutoff, now),
      pausedUntil: null,
      ...(finished
        ? {
            // Deepening later resumes from the page that crossed the cutoff.
            backfillCursor: reachedCutoff ? after : connection.pageInfo.endCursor,
            backfilledSince: reachedCutoff && cutoff ? cutoff : BEGINNING_OF_TIME,
            syncStatus: "complete",
            syncFinishedAt: now,
            lastSuccessfulSyncAt: now,
            // Webhooks cover what changed since the backfill started; the nightly delta starts there.
            watermark: repo.watermark ?? repo.syncStartedAt ?? now,
            lastError: null,
            lastErrorCode: null,
          }
        : { backfillCursor: connection.pageInfo.endCursor, syncStatus: "syncing" }),
    });
  });
  ctx.log.debug(
    { repo: repo.fullName, fetched: nodes.length, stored: inWindow.length, finished },
    "backfill page",
  );
  return finished ? "done" : "more";
}

/**
 * Pull requests in the window, estimated while paging: the whole repository for full history,
 * else extrapolated from how much of the time window the pages so far covered.
 */
function estimateTotal(
  done: number,
  totalCount: number,
  page: GqlPullRequest[],
  cutoff: Date | null,
  now: Date,
): number {
  if (!cutoff || page.length === 0) return totalCount;
  const oldest = Math.min(...page.map((pr) => Date.parse(pr.createdAt)));
  const covered = (now.getTime() - oldest) / (now.getTime() - cutoff.getTime());
  if (covered <= 0) return totalCount;
  return Math.min(totalCount, Math.max(done, Math.round(done / Math.min(1, covered))));
}
