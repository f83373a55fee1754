import type { PgBoss } from "pg-boss";
import { RateLimitedError } from "../errors.js";
import { enqueue } from "../queue/boss.js";
import { catalog, type JobData, type QueueKey } from "../queue/catalog.js";
import type { JobContext, JobDeps, JobOutput } from "./handlers/deps.js";
import { backfillRepo } from "./handlers/backfill-repo.js";
import { deltaSync } from "./handlers/delta-sync.js";
import { membersSync } from "./handlers/members-sync.js";
import { processWebhook } from "./handlers/process-webhook.js";
import { purgeInstallation } from "./handlers/purge-installation.js";
import { redeliverWebhooks } from "./handlers/redeliver-webhooks.js";
import { refreshPullRequest } from "./handlers/refresh-pull-request.js";
import { refreshWeeklyMetricsJob } from "./handlers/refresh-weekly-metrics.js";
import { retention } from "./handlers/retention.js";
import { syncRepositoriesJob } from "./handlers/sync-repositories.js";

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
  redeliverWebhooks,
  retention,
  purgeInstallation,
};

/**
 * Subscribes workers to the given queues (all by default). A rate limit never fails a job: the same
 * job is queued again for the moment GitHub's budget resets.
 */
export async function startWorkers(
  boss: PgBoss,
  deps: JobDeps,
  queues: readonly QueueKey[] = Object.keys(jobHandlers) as QueueKey[],
) {
  for (const key of queues) {
    const definition = catalog[key];
    const handler = (jobHandlers[key] as (deps: JobDeps) => JobHandler<typeof key>)(deps);
    const concurrency =
      key === "processWebhook"
        ? deps.config.webhookWorkerConcurrency
        : deps.config.syncConcurrencyPerInstallation;
    await boss.work(
      definition.name,
      {
        batchSize: 1,
        includeMetadata: true,
        localConcurrency: concurrency,
        pollingIntervalSeconds: 1,
        ...(definition.installationGroup
          ? { groupConcurrency: deps.config.syncConcurrencyPerInstallation }
          : {}),
      },
      async ([job]) => {
        if (!job) return;
        const data = definition.schema.parse(job.data) as JobData<typeof key>;
        const log = deps.log.child({
          jobId: job.id,
          queue: definition.name,
          ...("installationId" in data ? { installationId: data.installationId } : {}),
        });
        const timed = deps.metrics?.startJob(definition.name);
        try {
          // What the handler returns (why it skipped, say) is kept as the job's output.
          const output = await handler(data, {
            jobId: job.id,
            log,
            finalAttempt: job.retryCount >= job.retryLimit,
          });
          timed?.("completed");
          return output;
        } catch (error) {
          timed?.(error instanceof RateLimitedError ? "rate_limited" : "failed");
          if (error instanceof RateLimitedError) {
            log.warn({ resetAt: error.resetAt, kind: error.kind }, "rate limited; job rescheduled");
            await enqueue(boss, key, data, { startAfter: error.resetAt });
            return;
          }
          log.error({ err: error, code: (error as { code?: string }).code }, "job failed");
          throw error;
        }
      },
    );
  }
}
