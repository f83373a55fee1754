import type { PgBoss } from "pg-boss";
import { withTransaction, type Db } from "../db/client.js";
import { listUnfinishedBackfills, updateRepository } from "../db/queries/repositories.js";
import type { Repository } from "../db/schema/index.js";
import type { GqlPullRequest } from "../github/queries.js";
import { enqueue, enqueueMany } from "../queue/boss.js";
import { syncDepthToDays, type SyncDepth } from "../settings.js";
import {
  completePullRequests,
  fetchPullRequestPage,
  storePullRequests,
  type PullRequestPage,
} from "./pull-requests.js";
import type { SyncContext } from "./sync-context.js";
import { grown } from "./page-size.js";
import { settledBefore } from "./watermark.js";

const DAY_MS = 86_400_000;
/** backfilled_since when the whole history is in: nothing older exists. */
export const BEGINNING_OF_TIME = new Date(0);

export function backfillCutoff(
  repo: Pick<Repository, "syncDepth">,
  defaultDepth: Repository["syncDepth"],
  now: Date,
): Date | null {
  return depthCutoff(repo.syncDepth ?? defaultDepth ?? "30d", now);
}

/** The oldest creation time a depth reaches back to from `now`; null for the full history. */
export function depthCutoff(depth: SyncDepth, now: Date): Date | null {
  const days = syncDepthToDays(depth);
  return days === null ? null : new Date(now.getTime() - days * DAY_MS);
}

/** True when the stored history already reaches back to the cutoff (or to the first PR). */
export function isBackfillCovered(backfilledSince: Date | null, cutoff: Date | null): boolean {
  if (!backfilledSince) return false;
  if (backfilledSince.getTime() === BEGINNING_OF_TIME.getTime()) return true;
  return cutoff !== null && backfilledSince.getTime() <= cutoff.getTime();
}

/** True when the repository's backfill is complete and reaches as deep as its depth asks. */
export function isBackfillDone(
  repo: Pick<Repository, "syncStatus" | "syncDepth" | "backfilledSince">,
  defaultDepth: Repository["syncDepth"],
  now: Date,
): boolean {
  return (
    repo.syncStatus === "complete" &&
    isBackfillCovered(repo.backfilledSince, backfillCutoff(repo, defaultDepth, now))
  );
}

export type BackfillStep = "more" | "done";

/**
 * Days every repository's first backfill brings in before any repository of the installation goes
 * deeper: the metrics page needs recent weeks of every repository sooner than years of one.
 */
export const FIRST_WINDOW_DAYS = 30;

/**
 * The start of the first window while the repository's first backfill has not reached it and its
 * depth reaches further back; null when there is no first window to wait for (`windowDays` 0 turns
 * it off).
 */
export function firstWindowStart(
  repo: Pick<Repository, "backfilledSince">,
  cutoff: Date | null,
  now: Date,
  windowDays: number,
): Date | null {
  if (windowDays <= 0 || repo.backfilledSince !== null) return null;
  const start = new Date(now.getTime() - windowDays * DAY_MS);
  return cutoff !== null && cutoff >= start ? null : start;
}

/**
 * One page of a repository's backfill, newest pull requests first (by creation), with every
 * review and commit. The cursor is saved with the page's rows, so a crash resumes at the next
 * page. The cursor is kept when the depth is reached, so deepening it later continues from there
 * instead of fetching the covered window again. `limit` asks fewer pull requests than the
 * repository's page size (the rest of a first window).
 */
export async function backfillPage(
  ctx: SyncContext,
  repo: Repository,
  options: { limit?: number } = {},
): Promise<BackfillStep> {
  const now = ctx.now();
  const cutoff = backfillCutoff(repo, ctx.settings.defaultSyncDepth, now);
  if (isBackfillCovered(repo.backfilledSince, cutoff)) {
    // Nothing to fetch (say, the depth was shortened): the repository is as complete as it was.
    if (repo.syncStatus !== "complete") {
      await updateRepository(ctx.database.db, repo.id, {
        syncStatus: "complete",
        syncFinishedAt: now,
        pausedUntil: null,
        pausedAt: null,
      });
    }
    return "done";
  }
  const asked = Math.min(repo.pageSize, options.limit ?? repo.pageSize);
  // Below the rate-limit reserve this pauses instead.
  const page = await fetchPullRequestPage(ctx, repo, {
    after: repo.backfillCursor,
    orderBy: "CREATED_AT",
    pageSize: asked,
  });
  // A page cut short and answered in time says nothing of the size GitHub answers in time.
  const cut = asked < repo.pageSize && page.nextPageSize >= grown(asked);
  return storeBackfillPage(ctx, repo, cut ? { ...page, nextPageSize: repo.pageSize } : page, now);
}

/**
 * Stores a fetched backfill page of `repo` (asked after its saved cursor) and its progress:
 *
 *   1. keep the pull requests inside the window that an earlier, shallower pass did not store (a
 *      deeper pass starts again at the page that crossed the old cutoff), and follow their long
 *      review/commit lists;
 *   2. store rows, progress and cursor together; each pull request is counted once. The page that
 *      crosses the first window marks the history down to its oldest pull request as backfilled,
 *      which tells the installation's other repositories this one may go deeper.
 */
export async function storeBackfillPage(
  ctx: SyncContext,
  repo: Repository,
  page: PullRequestPage,
  now: Date,
): Promise<BackfillStep> {
  const cutoff = backfillCutoff(repo, ctx.settings.defaultSyncDepth, now);
  const after = repo.backfillCursor;
  const inWindow = cutoff ? page.nodes.filter((pr) => new Date(pr.createdAt) >= cutoff) : page.nodes;
  const reachedCutoff = inWindow.length < page.nodes.length;
  const missing = inWindow.filter((pr) => !isStoredByEarlierPass(repo, pr));
  const snapshots = await completePullRequests(ctx.client, missing);

  const finished = reachedCutoff || !page.hasNextPage;
  const windowStart = firstWindowStart(repo, cutoff, now, ctx.firstWindowDays ?? FIRST_WINDOW_DAYS);
  const oldest = page.nodes.at(-1);
  const firstWindowIn =
    windowStart !== null && oldest !== undefined && new Date(oldest.createdAt) < windowStart;
  const prsDone = repo.prsDone + missing.length;
  await withTransaction(ctx.database, async (db) => {
    await storePullRequests(db, ctx, repo.id, snapshots, { now });
    await updateRepository(db, repo.id, {
      pageSize: page.nextPageSize,
      prsDone,
      prsTotal: finished ? prsDone : estimateTotal(prsDone, page.totalCount, inWindow, cutoff, now),
      pausedUntil: null,
      ...(finished
        ? {
            // Deepening later resumes from the page that crossed the cutoff.
            backfillCursor: reachedCutoff ? after : page.endCursor,
            backfilledSince: reachedCutoff && cutoff ? cutoff : BEGINNING_OF_TIME,
            syncStatus: "complete",
            syncFinishedAt: now,
            lastSuccessfulSyncAt: now,
            // Webhooks cover what changed since the backfill started; the nightly delta starts there.
            watermark: repo.watermark ?? settledBefore(repo.syncStartedAt ?? now),
            lastError: null,
            lastErrorCode: null,
          }
        : {
            backfillCursor: page.endCursor,
            syncStatus: "syncing",
            // Pages come newest first: everything created since the oldest one is stored.
            ...(firstWindowIn ? { backfilledSince: new Date(oldest.createdAt) } : {}),
          }),
    });
  });
  ctx.log.debug(
    { repo: repo.fullName, fetched: page.nodes.length, stored: missing.length, finished, firstWindowIn },
    "backfill page",
  );
  if (finished && repo.syncStartedAt) {
    ctx.metrics?.syncFinished("backfill", (now.getTime() - repo.syncStartedAt.getTime()) / 1000);
  }
  return finished ? "done" : "more";
}

/**
 * The history an earlier pass stored reaches back to `backfilled_since`: a pull request created
 * since then was stored (and counted) by it, and webhooks and the delta sync keep it fresh.
 */
function isStoredByEarlierPass(repo: Pick<Repository, "backfilledSince">, pr: GqlPullRequest): boolean {
  return repo.backfilledSince !== null && new Date(pr.createdAt) >= repo.backfilledSince;
}

/** Queues a backfill for each repository, in the caller's transaction, and shows it as queued. */
export async function enqueueBackfills(
  boss: PgBoss,
  db: Db,
  installationId: number,
  repoIds: number[],
): Promise<void> {
  for (const repoId of repoIds) {
    await updateRepository(db, repoId, { syncStatus: "queued" });
    await enqueue(boss, "backfillRepo", { installationId, repoId }, { tx: db });
  }
}

/**
 * Queues again every backfill that was queued or running and has not finished: a job skipped while
 * its installation was suspended leaves its repository `queued` (or `syncing`), and nothing else
 * would ever pick it up. The queue's singleton key folds this into a backfill that is still
 * waiting, so nothing runs twice; the status is left as it is.
 */
export async function resumeUnfinishedBackfills(
  boss: PgBoss,
  db: Db,
  installationId: number,
): Promise<number> {
  const repoIds = await listUnfinishedBackfills(db, installationId);
  await enqueueMany(
    boss,
    "backfillRepo",
    repoIds.map((repoId) => ({ installationId, repoId })),
    { tx: db },
  );
  return repoIds.length;
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
