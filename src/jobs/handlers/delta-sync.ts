import { listTrackedRepositories } from "../../db/queries/repositories.js";
import { RateLimitedError } from "../../errors.js";
import { explainRepositoryAccessError } from "../../sync/access.js";
import { enqueueBackfills } from "../../sync/backfill.js";
import { deltaSyncRepository } from "../../sync/delta.js";
import { recordSyncFailure } from "../../sync/failures.js";
import { enqueue } from "../../queue/boss.js";
import type { JobData } from "../../queue/catalog.js";
import type { JobContext, JobDeps, JobOutput } from "./deps.js";
import { openSyncContext } from "./open-sync-context.js";

/**
 * Nightly (and "sync now", and after an outage for the repositories that missed deliveries): for
 * each tracked repository, what changed since its watermark. Also refreshes the repository list
 * and the members, and requeues backfills that never finished. A repository still backfilling is
 * left for the delta its backfill queues when it completes (see backfill-repo.ts).
 */
export function deltaSync(deps: JobDeps) {
  return async (
    data: JobData<"deltaSync">,
    { log, finalAttempt, signal }: JobContext,
  ): Promise<JobOutput> => {
    const opened = await openSyncContext(deps, data.installationId, { log, signal });
    if (!opened) return;
    const { ctx, installation } = opened;
    const db = deps.database.db;
    const all = await listTrackedRepositories(db, data.installationId);
    // Repositories whose pull request deliveries were lost come along whatever the job was queued
    // for: the one queued for them may have been folded into this one.
    const repos = data.repoIds
      ? all.filter((repo) => data.repoIds!.includes(repo.id) || repo.deltaRequestedAt)
      : all;
    if (!data.repoIds) {
      await enqueue(deps.boss, "syncRepositories", { installationId: data.installationId });
      if (installation.accountType === "Organization") {
        await enqueue(deps.boss, "membersSync", { installationId: data.installationId });
      }
    }

    const unfinished = repos.filter(
      (repo) => !repo.watermark && repo.syncStatus !== "queued" && repo.syncStatus !== "syncing",
    );
    await enqueueBackfills(
      deps.boss,
      db,
      data.installationId,
      unfinished.map((repo) => repo.id),
    );

    let drift = 0;
    let queries = 0;
    for (const [index, repo] of repos.entries()) {
      if (!repo.watermark) continue;
      try {
        const started = performance.now();
        const result = await deltaSyncRepository(ctx, repo);
        deps.metrics?.syncFinished("delta", (performance.now() - started) / 1000);
        deps.metrics?.driftFound(data.installationId, result.drift);
        drift += result.drift;
        queries += result.queries;
        if (result.drift > 0)
          log.warn({ repo: repo.fullName, drift: result.drift }, "delta sync repaired missed webhooks");
      } catch (error) {
        const lost = await explainRepositoryAccessError({ ...deps, log }, ctx, repo, error, "repository");
        if (lost === "repository_removed") continue;
        if (lost) return { skipped: lost };
        const outcome = await recordSyncFailure(db, repo.id, error, { finalAttempt, log, now: deps.now() });
        if (outcome === "paused" && error instanceof RateLimitedError) {
          // Resume with the repositories not done yet, when the budget is back.
          const rest = repos.slice(index).map((r) => r.id);
          await enqueue(
            deps.boss,
            "deltaSync",
            { installationId: data.installationId, repoIds: rest },
            { startAfter: error.resetAt },
          );
          return;
        }
        if (outcome === "retry") throw error;
      }
    }
    log.info({ repos: repos.length, drift, queries }, "delta sync finished");
  };
}
