import type { Logger } from "pino";
import { listTrackedRepositories } from "../../db/queries/repositories.js";
import { RateLimitedError } from "../../errors.js";
import { explainRepositoryAccessError } from "../../sync/access.js";
import { enqueueBackfills } from "../../sync/backfill.js";
import { checkRepositories, splitForCheck } from "../../sync/delta-check.js";
import { syncChangedPullRequests } from "../../sync/delta-fetch.js";
import { deltaSyncRepository, type FinishedRepositoryDelta } from "../../sync/delta.js";
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
 *
 *   1. Ask GitHub which repositories changed, a hundred a query; the unchanged are synced by that.
 *   2. Fetch the changed ones' updated pull requests by id, many repositories a query.
 *   3. A full delta, page by page, for the rest: busy repositories, those the outage repair
 *      marked, and those the check could not answer for.
 *
 * A rate limit at any step queues the repositories not done yet for when the budget is back.
 */
export function deltaSync(deps: JobDeps) {
  return async (data: JobData<"deltaSync">, { log, finalAttempt }: JobContext): Promise<JobOutput> => {
    const opened = await openSyncContext(deps, data.installationId, log);
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

    const pending = new Map(repos.filter((repo) => repo.watermark).map((repo) => [repo.id, repo]));
    let drift = 0;
    const synced = (deltas: FinishedRepositoryDelta[]) => {
      for (const delta of deltas) {
        pending.delete(delta.repo.id);
        drift += reportDrift(deps, ctx.installationId, delta, log);
      }
    };
    const { check, full } = splitForCheck([...pending.values()]);
    try {
      const checked = await checkRepositories(ctx, check, synced);
      full.push(...checked.full, ...(await syncChangedPullRequests(ctx, checked.changed, synced)));
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
      await resumeLater(deps, data.installationId, [...pending.keys()], error, log);
      return;
    }

    for (const repo of full) {
      try {
        const started = performance.now();
        const result = await deltaSyncRepository(ctx, repo);
        deps.metrics?.syncFinished("delta", (performance.now() - started) / 1000);
        synced([{ repo, result }]);
      } catch (error) {
        const lost = await explainRepositoryAccessError({ ...deps, log }, ctx, repo, error, "repository");
        if (lost === "repository_removed") continue;
        if (lost) return { skipped: lost };
        const outcome = await recordSyncFailure(db, repo.id, error, { finalAttempt, log, now: deps.now() });
        if (outcome === "paused" && error instanceof RateLimitedError) {
          await resumeLater(deps, data.installationId, [...pending.keys()], error, log);
          return;
        }
        if (outcome === "retry") throw error;
      }
    }
    log.info(
      { repos: repos.length, checked: check.length, full: full.length, drift, spent: ctx.client.spent },
      "delta sync finished",
    );
  };
}

/** Counts a repository's drift in the metrics and warns of it; returns it. */
function reportDrift(
  deps: JobDeps,
  installationId: number,
  delta: FinishedRepositoryDelta,
  log: Logger,
): number {
  const { drift } = delta.result;
  deps.metrics?.driftFound(installationId, drift);
  if (drift > 0) log.warn({ repo: delta.repo.fullName, drift }, "delta sync repaired missed webhooks");
  return drift;
}

/** Queues the repositories not done yet for when GitHub's budget is back. */
async function resumeLater(
  deps: JobDeps,
  installationId: number,
  repoIds: number[],
  error: RateLimitedError,
  log: Logger,
): Promise<void> {
  log.info({ repos: repoIds.length, resetAt: error.resetAt }, "delta sync paused by the rate limit");
  await enqueue(deps.boss, "deltaSync", { installationId, repoIds }, { startAfter: error.resetAt });
}
