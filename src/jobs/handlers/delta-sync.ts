import type { Db } from "../../db/client.js";
import { listTrackedRepositories } from "../../db/queries/repositories.js";
import type { Installation, Repository } from "../../db/schema/index.js";
import { RateLimitedError } from "../../errors.js";
import { explainRepositoryAccessError } from "../../sync/access.js";
import { enqueueBackfills } from "../../sync/backfill.js";
import { checkRepositories, splitForCheck } from "../../sync/delta-check.js";
import { syncChangedPullRequests } from "../../sync/delta-fetch.js";
import { deltaSyncRepository, type FinishedRepositoryDelta } from "../../sync/delta.js";
import { recordSyncFailure } from "../../sync/failures.js";
import { readMissingLabels, type LabelsRead } from "../../sync/missing-labels.js";
import type { SyncContext } from "../../sync/sync-context.js";
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
 *   4. Read the labels of pull requests stored before labels were, a bounded number a run
 *      (src/sync/missing-labels.ts).
 *
 * A rate limit at steps 1–3 queues the repositories not done yet for when the budget is back; at
 * step 4 it leaves the labels not read yet to the next run.
 */
export function deltaSync(deps: JobDeps) {
  return async (
    data: JobData<"deltaSync">,
    { log, finalAttempt, signal }: JobContext,
  ): Promise<JobOutput> => {
    const opened = await openSyncContext(deps, data.installationId, { log, signal });
    if (!opened) return;
    const { ctx, installation } = opened;
    const repos = await repositoriesInScope(deps.database.db, data);
    await queueInstallationWork(deps, data, installation, repos);

    const run = startRun(deps, ctx, repos);
    const { check, full } = splitForCheck([...run.pending.values()]);
    try {
      const checked = await checkRepositories(ctx, check, run.synced);
      full.push(...checked.full, ...(await syncChangedPullRequests(ctx, checked.changed, run.synced)));
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
      return resumeLater(deps, run, error);
    }
    const stopped = await fullDeltas(deps, run, full, finalAttempt);
    if (stopped) return stopped;
    const labels = await readLabelsLeft(deps, ctx, repos);
    log.info(
      {
        repos: repos.length,
        checked: check.length,
        full: full.length,
        drift: run.drift,
        labels,
        spent: ctx.client.spent,
      },
      "delta sync finished",
    );
  };
}

/**
 * The job's repositories: all tracked ones, or those it was queued for. Repositories whose pull
 * request deliveries were lost come along whatever the job was queued for: the one queued for them
 * may have been folded into this one.
 */
async function repositoriesInScope(db: Db, data: JobData<"deltaSync">): Promise<Repository[]> {
  const all = await listTrackedRepositories(db, data.installationId);
  return data.repoIds ? all.filter((repo) => data.repoIds!.includes(repo.id) || repo.deltaRequestedAt) : all;
}

/** The nightly's other work: the repository list and members, and backfills that never finished. */
async function queueInstallationWork(
  deps: JobDeps,
  data: JobData<"deltaSync">,
  installation: Installation,
  repos: Repository[],
): Promise<void> {
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
    deps.database.db,
    data.installationId,
    unfinished.map((repo) => repo.id),
  );
}

/** One job's progress: the repositories not synced yet, and the drift found so far. */
interface DeltaRun {
  ctx: SyncContext;
  pending: Map<number, Repository>;
  drift: number;
  /** Repositories whose delta finished: no longer pending, their drift counted and reported. */
  synced: (deltas: FinishedRepositoryDelta[]) => void;
}

/** A run over the repositories that completed a backfill (the others wait for it). */
function startRun(deps: JobDeps, ctx: SyncContext, repos: Repository[]): DeltaRun {
  const run: DeltaRun = {
    ctx,
    pending: new Map(repos.filter((repo) => repo.watermark).map((repo) => [repo.id, repo])),
    drift: 0,
    synced: (deltas) => {
      for (const { repo, result } of deltas) {
        run.pending.delete(repo.id);
        run.drift += result.drift;
        deps.metrics?.driftFound(ctx.installationId, result.drift);
        if (result.drift > 0)
          ctx.log.warn({ repo: repo.fullName, drift: result.drift }, "delta sync repaired missed webhooks");
      }
    },
  };
  return run;
}

/**
 * A full delta, page by page, for each of these repositories, one at a time. A repository GitHub
 * no longer shows is recorded removed; an installation gone or suspended ends the job (its reason
 * returned); a rate limit queues what is left for the reset.
 */
async function fullDeltas(
  deps: JobDeps,
  run: DeltaRun,
  repos: Repository[],
  finalAttempt: boolean,
): Promise<JobOutput> {
  const { ctx } = run;
  for (const repo of repos) {
    try {
      const started = performance.now();
      const result = await deltaSyncRepository(ctx, repo);
      deps.metrics?.syncFinished("delta", (performance.now() - started) / 1000);
      run.synced([{ repo, result }]);
    } catch (error) {
      const log = ctx.log;
      const lost = await explainRepositoryAccessError({ ...deps, log }, ctx, repo, error, "repository");
      if (lost === "repository_removed") continue;
      if (lost) return { skipped: lost };
      const db = deps.database.db;
      const outcome = await recordSyncFailure(db, repo.id, error, { finalAttempt, log, now: deps.now() });
      if (outcome === "paused" && error instanceof RateLimitedError) return resumeLater(deps, run, error);
      if (outcome === "retry") throw error;
    }
  }
  return undefined;
}

/**
 * The labels of the repositories' pull requests stored without them, as many as a run reads. The
 * repositories are synced by now: a rate limit or a failure here only leaves the rest to the next
 * run (what was read is stored), instead of failing or repeating the job.
 */
async function readLabelsLeft(
  deps: JobDeps,
  ctx: SyncContext,
  repos: Repository[],
): Promise<LabelsRead | undefined> {
  const repoIds = repos.map((repo) => repo.id);
  try {
    return await readMissingLabels(ctx, repoIds, deps.config.missingLabelsPerRun);
  } catch (error) {
    if (error instanceof RateLimitedError) {
      ctx.log.info({ resetAt: error.resetAt }, "labels left to read wait for the next delta sync");
    } else {
      ctx.log.warn({ err: error }, "labels not read; the next delta sync tries again");
    }
    return undefined;
  }
}

/** Queues the repositories not synced yet for when GitHub's budget is back. */
async function resumeLater(deps: JobDeps, run: DeltaRun, error: RateLimitedError): Promise<JobOutput> {
  const repoIds = [...run.pending.keys()];
  run.ctx.log.info({ repos: repoIds.length, resetAt: error.resetAt }, "delta sync paused by the rate limit");
  const installationId = run.ctx.installationId;
  await enqueue(deps.boss, "deltaSync", { installationId, repoIds }, { startAfter: error.resetAt });
  return { paused: { repos: repoIds.length, until: error.resetAt.toISOString() } };
}
