import { and, eq, inArray } from "drizzle-orm";
import { withTransaction } from "../db/client.js";
import { updateRepository } from "../db/queries/repositories.js";
import { commits, pullRequests, reviews, type Repository } from "../db/schema/index.js";
import type { GqlPullRequest, RepositoryPullRequestsResult } from "../github/queries.js";
import { NotFoundError } from "../errors.js";
import { withAdaptivePageSize } from "./page-size.js";
import {
  completePullRequest,
  saveSnapshots,
  snapshotRows,
  type SnapshotRows,
} from "./pull-request-snapshot.js";
import type { SyncContext } from "./sync-context.js";
import { enqueueWeeklyRefresh } from "./weekly.js";

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
  if (!repo.nodeId) throw new NotFoundError(`repository ${repo.id} has no node id`);
  const watermark = repo.watermark;
  const now = ctx.now();
  let after: string | null = null;
  let pageSize = FIRST_PAGE_SIZE;
  let newest = watermark;
  const result: DeltaResult = { changed: 0, drift: 0, queries: 0 };

  for (;;) {
    ctx.client.assertBudget(ctx.reservePercent);
    const { result: page, nextPageSize } = await withAdaptivePageSize(pageSize, (size) =>
      ctx.client.graphql<RepositoryPullRequestsResult>(
        "repository-pull-requests",
        { repoId: repo.nodeId, first: size, after, orderBy: "UPDATED_AT" },
        { retries: 0 },
      ),
    );
    result.queries += 1;
    if (!page.node) throw new NotFoundError(`repository ${repo.fullName} is not visible to the installation`);
    const connection = page.node.pullRequests;
    const nodes = connection.nodes.filter((node): node is GqlPullRequest => node !== null);
    const changed = nodes.filter((pr) => new Date(pr.updatedAt) > watermark);
    const snapshots = [];
    for (const pr of changed) snapshots.push(await completePullRequest(ctx.client, pr));
    const rows = snapshots.map((snapshot) =>
      snapshotRows(snapshot, ctx.installationId, repo.id, ctx.settings, now),
    );
    if (rows.length > 0) {
      await withTransaction(ctx.database, async (db) => {
        result.drift += await countDrift(db, ctx.installationId, rows);
        await saveSnapshots(db, rows);
        await enqueueWeeklyRefresh(
          ctx.boss,
          db,
          ctx.installationId,
          ctx.settings.timezone,
          rows.map((row) => row.pullRequest),
        );
      });
    }
    result.changed += changed.length;
    for (const pr of changed) if (new Date(pr.updatedAt) > newest) newest = new Date(pr.updatedAt);
    const reachedWatermark = changed.length < nodes.length;
    if (reachedWatermark || !connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
    pageSize = Math.max(repo.pageSize, nextPageSize);
  }

  await updateRepository(ctx.database.db, repo.id, {
    watermark: newest,
    lastDriftCount: result.drift,
    lastSuccessfulSyncAt: now,
    syncStatus: "complete",
    pausedUntil: null,
    lastError: null,
    lastErrorCode: null,
  });
  return result;
}

/** What GitHub has that the database lacks: pull requests, reviews and commits never delivered. */
async function countDrift(
  db: Parameters<typeof saveSnapshots>[0],
  installationId: number,
  rows: SnapshotRows[],
) {
  const ids = rows.map((row) => row.pullRequest.id);
  const stored = await db
    .select({ id: pullRequests.id, updatedAt: pullRequests.updatedAt })
    .from(pullRequests)
    .where(and(eq(pullRequests.installationId, installationId), inArray(pullRequests.id, ids)));
  const storedReviews = await db
    .select({ id: reviews.id })
    .from(reviews)
    .where(and(eq(reviews.installationId, installationId), inArray(reviews.pullRequestId, ids)));
  const storedCommits = await db
    .select({ pullRequestId: commits.pullRequestId, sha: commits.sha })
    .from(commits)
    .where(and(eq(commits.installationId, installationId), inArray(commits.pullRequestId, ids)));
  const prVersion = new Map(stored.map((row) => [row.id, row.updatedAt.getTime()]));
  const reviewIds = new Set(storedReviews.map((row) => row.id));
  const commitKeys = new Set(storedCommits.map((row) => `${row.pullRequestId}:${row.sha}`));
  let drift = 0;
  for (const row of rows) {
    const version = prVersion.get(row.pullRequest.id);
    if (version === undefined || version < row.pullRequest.updatedAt.getTime()) drift += 1;
    drift += row.reviews.filter((review) => !reviewIds.has(review.id)).length;
    drift += row.commits.filter((commit) => !commitKeys.has(`${row.pullRequest.id}:${commit.sha}`)).length;
  }
  return drift;
}
