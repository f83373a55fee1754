import { withTransaction } from "../db/client.js";
import { clearDeltaRequest, updateRepository } from "../db/queries/repositories.js";
import { insertSyncRun } from "../db/queries/sync-runs.js";
import type { Repository } from "../db/schema/index.js";
import { completePullRequests, fetchPullRequestPage, storePullRequests } from "./pull-requests.js";
import type { SyncContext } from "./sync-context.js";

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
  queries: number;
}

/**
 * Pull requests updated since the watermark, newest first, stopping at the watermark. Repairs
 * whatever webhooks missed and counts it. The watermark advances only after every page is
 * committed, so a crash repeats the work instead of skipping it.
 */
export async function deltaSyncRepository(ctx: SyncContext, repo: Repository): Promise<DeltaResult> {
  if (!repo.watermark) throw new Error(`repository ${repo.id} has no watermark: backfill it first`);
  const watermark = repo.watermark;
  const now = ctx.now();
  let after: string | null = null;
  let pageSize = FIRST_PAGE_SIZE;
  let newest = watermark;
  const result: DeltaResult = { changed: 0, drift: 0, queries: 0 };

  for (;;) {
    const page = await fetchPullRequestPage(ctx, repo, { after, orderBy: "UPDATED_AT", pageSize });
    result.queries += 1;
    const changed = page.nodes.filter((pr) => new Date(pr.updatedAt) > watermark);
    const snapshots = await completePullRequests(ctx.client, changed);
    if (snapshots.length > 0) {
      await withTransaction(ctx.database, async (db) => {
        const stored = await storePullRequests(db, ctx, repo.id, snapshots, { now, countDrift: true });
        result.drift += stored.drift;
      });
    }
    result.changed += changed.length;
    for (const pr of changed) if (new Date(pr.updatedAt) > newest) newest = new Date(pr.updatedAt);
    const reachedWatermark = changed.length < page.nodes.length;
    if (reachedWatermark || !page.hasNextPage) break;
    after = page.endCursor;
    pageSize = Math.max(repo.pageSize, page.nextPageSize);
  }

  // The run is recorded with the watermark it advanced, so the webhook health page never shows
  // a run that did not happen, nor misses one that did.
  await withTransaction(ctx.database, async (db) => {
    await updateRepository(db, repo.id, {
      watermark: newest,
      lastDriftCount: result.drift,
      lastSuccessfulSyncAt: now,
      syncStatus: "complete",
      pausedUntil: null,
      lastError: null,
      lastErrorCode: null,
    });
    if (repo.deltaRequestedAt) await clearDeltaRequest(db, repo.id, repo.deltaRequestedAt);
    await insertSyncRun(db, {
      installationId: ctx.installationId,
      repoId: repo.id,
      startedAt: now,
      finishedAt: ctx.now(),
      ...result,
    });
  });
  return result;
}
