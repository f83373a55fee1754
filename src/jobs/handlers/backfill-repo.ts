import { findRepository, updateRepository } from "../../db/queries/repositories.js";
import { CursorError } from "../../errors.js";
import { notifyIfFirstBackfillComplete } from "../../notify/first-backfill.js";
import { explainRepositoryAccessError } from "../../sync/access.js";
import { backfillPage, type BackfillStep } from "../../sync/backfill.js";
import { recordSyncFailure } from "../../sync/failures.js";
import { enqueue } from "../../queue/boss.js";
import type { JobData } from "../../queue/catalog.js";
import type { JobContext, JobDeps, JobOutput } from "./deps.js";
import { openSyncContext } from "./open-sync-context.js";

/**
 * A job works pages for up to this long, then queues its continuation: other repositories and
 * installations get their turn, and a long history never holds a worker for hours.
 */
const SLICE_MS = 20_000;

export function backfillRepo(deps: JobDeps) {
  return async (data: JobData<"backfillRepo">, { log, finalAttempt }: JobContext): Promise<JobOutput> => {
    const opened = await openSyncContext(deps, data.installationId, log);
    if (!opened) return;
    const { ctx } = opened;
    const db = deps.database.db;
    const sliceEnd = Date.now() + SLICE_MS;
    let step: BackfillStep = "more";
    // A stopping process ends the slice at the next page: the continuation runs on another worker.
    while (step === "more" && Date.now() < sliceEnd && !deps.stopping?.aborted) {
      const repo = await findRepository(db, data.repoId);
      if (!repo || !repo.tracked || repo.removedAt || repo.installationId !== data.installationId) return;
      if (repo.syncStatus !== "syncing") {
        const restart = repo.syncStatus === "complete" || repo.syncStatus === "error" || !repo.syncStartedAt;
        await updateRepository(db, repo.id, {
          syncStatus: "syncing",
          pausedUntil: null,
          ...(restart ? { syncStartedAt: ctx.now(), syncFinishedAt: null } : {}),
        });
        repo.syncStatus = "syncing";
        if (restart) repo.syncStartedAt = ctx.now();
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
        // Uninstalled, suspended (resumed on unsuspend) or repository gone: recorded, not a failure.
        const lost = await explainRepositoryAccessError({ ...deps, log }, ctx, repo, error, "repository");
        if (lost) return { skipped: lost };
        const outcome = await recordSyncFailure(db, repo.id, error, { finalAttempt, log, now: deps.now() });
        if (outcome === "failed") return;
        throw error;
      }
    }
    if (step === "more") {
      await enqueue(deps.boss, "backfillRepo", data);
      return;
    }
    await notifyIfFirstBackfillComplete(db, deps.config, data.installationId, log);
  };
}
