import { withTransaction, type Db } from "../db/client.js";
import { clearDeltaRequest, recordDeltasFinished } from "../db/queries/repositories.js";
import { insertSyncRuns } from "../db/queries/sync-runs.js";
import type { Repository } from "../db/schema/index.js";
import { completePullRequests, fetchPullRequestPage, storePullRequests } from "./pull-requests.js";
import type { SyncContext } from "./sync-context.js";
import { advanceWatermark, isSinceWatermark } from "./watermark.js";

/**
 * The first page of a delta is small: for an unchanged repository it is the only query, and a
 * 25-node page with its nested lists costs 1 point in GitHub's formula.
 */
const FIRST_PAGE_SIZE = 25;

export interface DeltaResult {
  /** Pull requests updated since the watermark. */
  changed: number;
  /** Changes GitHub has that webhooks had not delivered: PRs, reviews and commits. */
  drift: number;
  /** GitHub queries that asked about the repository. */
  queries: number;
}

/** A repository whose delta stored everything it found. */
export interface FinishedRepositoryDelta {
  repo: Repository;
  result: DeltaResult;
}

/**
 * One repository's full delta: pull requests updated since the watermark, newest first, page by
 * page down to the watermark. Repairs whatever webhooks missed and counts it. The watermark
 * advances only after every page is committed, so a crash repeats the work instead of skipping it.
 */
export async function deltaSyncRepository(ctx: SyncContext, repo: Repository): Promise<DeltaResult> {
  if (!repo.watermark) throw new Error(`repository ${repo.id} has no watermark: backfill it first`);
  const watermark = repo.watermark;
  const readAt = ctx.now();
  let after: string | null = null;
  let pageSize = FIRST_PAGE_SIZE;
  const result: DeltaResult = { changed: 0, drift: 0, queries: 0 };

  for (;;) {
    const page = await fetchPullRequestPage(ctx, repo, { after, orderBy: "UPDATED_AT", pageSize });
    result.queries += 1;
    const changed = page.nodes.filter((pr) => isSinceWatermark(pr.updatedAt, watermark));
    const snapshots = await completePullRequests(ctx.client, changed);
    if (snapshots.length > 0) {
      await withTransaction(ctx.database, async (db) => {
        const stored = await storePullRequests(db, ctx, repo.id, snapshots, {
          now: readAt,
          countDrift: true,
        });
        result.drift += stored.drift;
      });
    }
    result.changed += changed.length;
    const reachedWatermark = changed.length < page.nodes.length;
    if (reachedWatermark || !page.hasNextPage) break;
    after = page.endCursor;
    pageSize = Math.max(repo.pageSize, page.nextPageSize);
  }

  await withTransaction(ctx.database, (db) => recordDeltas(db, ctx, [{ repo, result }], readAt));
  return result;
}

/**
 * Records deltas that read GitHub at `readAt` and stored all they found, in the caller's
 * transaction: watermarks advanced, repositories complete, outage-repair requests met, and a sync
 * run each. The run is recorded with the watermark it advanced, so the webhook health page never
 * shows a run that did not happen, nor misses one that did.
 */
export async function recordDeltas(
  db: Db,
  ctx: Pick<SyncContext, "installationId" | "now">,
  deltas: FinishedRepositoryDelta[],
  readAt: Date,
): Promise<void> {
  await recordDeltasFinished(
    db,
    deltas.map(({ repo, result }) => ({
      id: repo.id,
      watermark: advanceWatermark(repo.watermark!, readAt),
      drift: result.drift,
    })),
    readAt,
  );
  for (const { repo } of deltas) {
    if (repo.deltaRequestedAt) await clearDeltaRequest(db, repo.id, repo.deltaRequestedAt);
  }
  const finishedAt = ctx.now();
  await insertSyncRuns(
    db,
    deltas.map(({ repo, result }) => ({
      installationId: ctx.installationId,
      repoId: repo.id,
      startedAt: readAt,
      finishedAt,
      ...result,
    })),
  );
}
