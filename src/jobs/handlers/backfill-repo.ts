import { LOCK_NAMESPACE, withAdvisoryLock } from "../../db/client.js";
import { findRepository, updateRepository } from "../../db/queries/repositories.js";
import { CursorError } from "../../errors.js";
import type { Repository } from "../../db/schema/index.js";
import { notifyIfFirstBackfillComplete } from "../../notify/first-backfill.js";
import { enqueue } from "../../queue/boss.js";
import type { JobData } from "../../queue/catalog.js";
import { explainRepositoryAccessError } from "../../sync/access.js";
import { backfillPage, isBackfillDone, type BackfillStep } from "../../sync/backfill.js";
import { recordSyncFailure } from "../../sync/failures.js";
import { backfillFirstWindows, type LaneEnd } from "../../sync/first-window.js";
import type { SyncContext } from "../../sync/sync-context.js";
import type { JobContext, JobDeps, JobOutput } from "./deps.js";
import { openSyncContext } from "./open-sync-context.js";

/**
 * A job works pages for up to this long, then queues its continuation: other repositories and
 * installations get their turn, and a long history never holds a worker for hours.
 */
export const SLICE_MS = 20_000;
/** Another job holds the repository (a slice still finishing): look again after this long. */
const BUSY_RETRY_SECONDS = 15;

/**
 * One slice of a repository's backfill: first a lane of the installation's first windows step
 * (holding no repository of its own, sync/first-window.ts), then, once every window is in, this
 * repository's pages. The repository's advisory lock makes sure no two jobs (or a job and a lane)
 * work it at once (the queue keeps one waiting job per repository, not one running); a job that
 * finds it taken comes back shortly, so a request made meanwhile (say, a deeper sync depth) is not
 * lost.
 */
export function backfillRepo(deps: JobDeps) {
  return async (data: JobData<"backfillRepo">, context: JobContext): Promise<JobOutput> => {
    const opened = await openSyncContext(deps, data.installationId, context);
    if (!opened) return;
    const sliceEnd = Date.now() + SLICE_MS;
    const windows = await workFirstWindows(deps, opened.ctx, data, context, sliceEnd);
    if (windows === "pending") await enqueue(deps.boss, "backfillRepo", data);
    if (windows !== "in") return typeof windows === "object" ? windows : undefined;
    const slice = await withAdvisoryLock(deps.database, LOCK_NAMESPACE.backfill, String(data.repoId), () =>
      workSlice(deps, opened.ctx, data, context, sliceEnd),
    );
    if (!slice.locked) {
      await enqueue(deps.boss, "backfillRepo", data, { startAfter: BUSY_RETRY_SECONDS });
      return;
    }
    if (typeof slice.value === "object") return slice.value;
    // Queued after the lock is released, so the next slice can start the moment a worker takes it.
    if (slice.value === "more") await enqueue(deps.boss, "backfillRepo", data);
    if (slice.value === "done") {
      await queueRequestedDelta(deps, data);
      await notifyIfFirstBackfillComplete(deps.database.db, deps.config, data.installationId, context.log);
    }
  };
}

/**
 * Deliveries of the repository were lost while its backfill ran (the app was down): the pull
 * requests they were about are newer than the backfill's cursor, so a delta sync from the
 * watermark repairs them now that the backfill is complete.
 */
async function queueRequestedDelta(deps: JobDeps, data: JobData<"backfillRepo">): Promise<void> {
  const repo = await findRepository(deps.database.db, data.repoId);
  if (!repo?.deltaRequestedAt) return;
  await enqueue(deps.boss, "deltaSync", { installationId: data.installationId, repoIds: [data.repoId] });
}

/**
 * Before any page of any repository: this job works, as one lane, the installation's step that
 * brings every repository still waiting for its first window (sync/first-window.ts). Each backfill
 * job of the installation is a lane under its one GitHub slot, so the step has as many queries in
 * flight as the installation's jobs hold slots (SYNC_CONCURRENCY_PER_INSTALLATION is a promise to
 * GitHub), and no job holds a slot waiting for another's step. "pending" when the slice ended first.
 */
async function workFirstWindows(
  deps: JobDeps,
  ctx: SyncContext,
  data: JobData<"backfillRepo">,
  context: JobContext,
  until: number,
): Promise<LaneEnd | "stopped" | { skipped: string }> {
  if (!deps.config.backfillFirstWindowDays) return "in";
  const repo = await findRepository(deps.database.db, data.repoId);
  if (!isBackfillOf(repo, data)) return "stopped";
  try {
    const lanes = deps.config.syncConcurrencyPerInstallation;
    return await backfillFirstWindows(ctx, { lanes, stopping: deps.stopping, until });
  } catch (error) {
    return await failedSlice(deps, ctx, repo, error, context);
  }
}

/** The repository is still the installation's and tracked: its backfill goes on. */
function isBackfillOf(repo: Repository | undefined, data: JobData<"backfillRepo">): repo is Repository {
  return !!repo && repo.tracked && !repo.removedAt && repo.installationId === data.installationId;
}

async function workSlice(
  deps: JobDeps,
  ctx: SyncContext,
  data: JobData<"backfillRepo">,
  context: JobContext,
  sliceEnd: number,
): Promise<BackfillStep | "stopped" | { skipped: string }> {
  const db = deps.database.db;
  const { log } = context;
  let step: BackfillStep = "more";
  // A stopping process ends the slice at the next page: the continuation runs on another worker.
  while (step === "more" && Date.now() < sliceEnd && !deps.stopping?.aborted) {
    const repo = await findRepository(db, data.repoId);
    if (!isBackfillOf(repo, data)) return "stopped";
    // The first windows step may have fetched this repository's whole backfill.
    if (isBackfillDone(repo, ctx.settings.defaultSyncDepth, ctx.now())) return "done";
    if (repo.syncStatus !== "syncing") {
      // A new run (first backfill, or a deeper depth after one completed) or one resuming after a
      // pause: the ETA counts only this run's pull requests and the time it was not paused.
      const now = ctx.now();
      const restart = repo.syncStatus === "complete" || repo.syncStatus === "error" || !repo.syncStartedAt;
      const paused = repo.pausedAt ? Math.round((now.getTime() - repo.pausedAt.getTime()) / 1000) : 0;
      const run = restart
        ? { syncStartedAt: now, syncFinishedAt: null, runPrsStart: repo.prsDone, runPausedSeconds: 0 }
        : { runPausedSeconds: repo.runPausedSeconds + paused };
      await updateRepository(db, repo.id, {
        syncStatus: "syncing",
        pausedUntil: null,
        pausedAt: null,
        ...run,
      });
      Object.assign(repo, { syncStatus: "syncing", pausedUntil: null, pausedAt: null, ...run });
    }
    try {
      step = await backfillPage(ctx, repo);
    } catch (error) {
      if (error instanceof CursorError) {
        // GitHub no longer accepts the saved cursor: start this pass again from the newest PR.
        log.warn({ repoId: repo.id }, "backfill cursor rejected; restarting from the top");
        await updateRepository(db, repo.id, { backfillCursor: null });
        continue;
      }
      return await failedSlice(deps, ctx, repo, error, context);
    }
  }
  return step;
}

/**
 * A page (or a lane of the first windows step) that failed. Uninstalled, suspended (resumed on
 * unsuspend) or repository gone: recorded, not a failure. Otherwise recorded, and retried unless
 * final.
 */
async function failedSlice(
  deps: JobDeps,
  ctx: SyncContext,
  repo: Repository,
  error: unknown,
  { log, finalAttempt }: JobContext,
): Promise<"stopped" | { skipped: string }> {
  const lost = await explainRepositoryAccessError({ ...deps, log }, ctx, repo, error, "repository");
  if (lost) return { skipped: lost };
  const outcome = await recordSyncFailure(deps.database.db, repo.id, error, {
    finalAttempt,
    log,
    now: deps.now(),
  });
  if (outcome === "failed") return "stopped";
  throw error;
}
