import type { JobResult, JobWithMetadata, PgBoss } from "pg-boss";
import { waitForDatabase } from "../db/client.js";
import { describeError, RateLimitedError } from "../errors.js";
import { enqueue } from "../queue/boss.js";
import { catalog, type JobData, type QueueKey } from "../queue/catalog.js";
import type { JobContext, JobDeps, JobOutput } from "./handlers/deps.js";
import { backfillRepo } from "./handlers/backfill-repo.js";
import { deltaSync } from "./handlers/delta-sync.js";
import { membersSync } from "./handlers/members-sync.js";
import { processWebhook } from "./handlers/process-webhook.js";
import { recomputePullRequestsJob } from "./handlers/recompute-pull-requests.js";
import { purgeInstallation } from "./handlers/purge-installation.js";
import { redeliverWebhooks } from "./handlers/redeliver-webhooks.js";
import { refreshPullRequest } from "./handlers/refresh-pull-request.js";
import { refreshWeeklyMetricsJob } from "./handlers/refresh-weekly-metrics.js";
import { retention } from "./handlers/retention.js";
import { syncRepositoriesJob } from "./handlers/sync-repositories.js";
import { withInstallationSlot } from "./installation-slot.js";

type JobHandler<K extends QueueKey> = (data: JobData<K>, context: JobContext) => Promise<JobOutput>;
type HandlerFactories = { [K in QueueKey]: (deps: JobDeps) => JobHandler<K> };

/** Every queue of the catalog has its handler here; a queue without one does not compile. */
const jobHandlers: HandlerFactories = {
  processWebhook,
  refreshPullRequest,
  syncRepositories: syncRepositoriesJob,
  backfillRepo,
  deltaSync,
  membersSync,
  refreshWeeklyMetrics: refreshWeeklyMetricsJob,
  recomputePullRequests: recomputePullRequestsJob,
  redeliverWebhooks,
  retention,
  purgeInstallation,
};

/** A managed Postgres restarts or fails over within a minute; longer, the job's heartbeat decides. */
const DATABASE_OUTAGE_WAIT_MS = 60_000;

/**
 * Subscribes workers to the given queues (all by default). Jobs that call GitHub hold one of their
 * installation's slots while they run. A rate limit never fails a job: the same job is queued again
 * for the moment GitHub's budget resets.
 *
 * Webhook workers fetch WEBHOOK_BATCH_SIZE jobs at a time and keep fetching while batches come back
 * full: with one job per fetch a worker waits its polling interval between jobs, which after a
 * burst of deliveries drained a few jobs a second.
 */
export async function startWorkers(
  boss: PgBoss,
  deps: JobDeps,
  queues: readonly QueueKey[] = Object.keys(jobHandlers) as QueueKey[],
) {
  for (const key of queues) {
    const definition = catalog[key];
    const handler = (jobHandlers[key] as (deps: JobDeps) => JobHandler<typeof key>)(deps);
    const webhooks = key === "processWebhook";
    // Sync jobs run for seconds and hold GitHub's budget: one per fetch, few at a time.
    const batchSize = webhooks ? deps.config.webhookBatchSize : 1;
    const concurrency = webhooks
      ? deps.config.webhookWorkerConcurrency
      : deps.config.syncConcurrencyPerInstallation;

    const run = async (job: JobWithMetadata<unknown>): Promise<JobResult> => {
      const data = definition.schema.parse(job.data) as JobData<typeof key>;
      const log = deps.log.child({
        jobId: job.id,
        queue: definition.name,
        ...("installationId" in data ? { installationId: data.installationId } : {}),
      });
      const timed = deps.metrics?.startJob(definition.name);
      try {
        const work = () =>
          handler(data, { jobId: job.id, log, finalAttempt: job.retryCount >= job.retryLimit });
        // What the handler returns (why it skipped, say) is kept as the job's output.
        const output =
          definition.installationGroup && "installationId" in data
            ? await withInstallationSlot(
                deps,
                data.installationId,
                { job: job.id, attempt: job.retryCount },
                log,
                work,
                job.signal,
              )
            : await work();
        timed?.("completed");
        return { id: job.id, status: "completed", ...(output ? { output } : {}) };
      } catch (error) {
        timed?.(error instanceof RateLimitedError ? "rate_limited" : "failed");
        // pg-boss records the outcome in Postgres: if Postgres is what failed the job, that record
        // would fail too and leave the job claimed until it expires. Wait for Postgres first.
        await waitForDatabase(deps.database, { timeoutMs: DATABASE_OUTAGE_WAIT_MS });
        if (error instanceof RateLimitedError) {
          log.warn({ resetAt: error.resetAt, kind: error.kind }, "rate limited; job rescheduled");
          await enqueue(boss, key, data, { startAfter: error.resetAt });
          return { id: job.id, status: "completed" };
        }
        log.error({ err: error, code: (error as { code?: string }).code }, "job failed");
        // pg-boss keeps the output (jsonb): the text carries no query parameters and no U+0000.
        return { id: job.id, status: "failed", output: { message: describeError(error) } };
      }
    };

    await boss.work(
      definition.name,
      {
        batchSize,
        burstWhenBatchFull: batchSize > 1,
        perJobResults: true,
        includeMetadata: true,
        localConcurrency: concurrency,
        pollingIntervalSeconds: 1,
        ...(definition.installationGroup
          ? { groupConcurrency: deps.config.syncConcurrencyPerInstallation }
          : {}),
        // NOTIFY wakes workers when a job is sent, and pg-boss would then poll only every 30 s: a
        // backlog (left by a burst of deliveries, or by a Postgres outage) drained one job per
        // worker per 30 s. NOTIFY stays a latency hint on top of the usual 1 s polling.
        ...("notify" in definition.options && definition.options.notify
          ? { notifyPollingIntervalSeconds: 1 }
          : {}),
      },
      async (jobs) => {
        const results: JobResult[] = [];
        // One after another: concurrency comes from the workers, each holding one database transaction.
        for (const job of jobs) results.push(await run(job));
        return results;
      },
    );
  }
}
