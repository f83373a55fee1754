import type { PgBoss } from "pg-boss";
import { waitForDatabase } from "../db/client.js";
import { RateLimitedError } from "../errors.js";
import { enqueue } from "../queue/boss.js";
import { catalog, type JobData, type QueueKey } from "../queue/catalog.js";
import type { JobContext, JobDeps } from "./handlers/deps.js";
import { backfillRepo } from "./handlers/backfill-repo.js";
import { deltaSync } from "./handlers/delta-sync.js";
import { membersSync } from "./handlers/members-sync.js";
import { processWebhook } from "./handlers/process-webhook.js";
import { refreshPullRequest } from "./handlers/refresh-pull-request.js";
import { refreshWeeklyMetricsJob } from "./handlers/refresh-weekly-metrics.js";
import { syncRepositoriesJob } from "./handlers/sync-repositories.js";
import { withInstallationSlot } from "./installation-slot.js";

type JobHandler<K extends QueueKey> = (data: JobData<K>, context: JobContext) => Promise<void>;
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
};

/** A managed Postgres restarts or fails over within a minute; longer, the job's heartbeat decides. */
const DATABASE_OUTAGE_WAIT_MS = 60_000;

/**
 * Subscribes workers to the given queues (all by default). Jobs that call GitHub hold one of their
 * installation's slots while they run. A rate limit never fails a job: the same job is queued again
 * for the moment GitHub's budget resets.
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
        // NOTIFY wakes workers when a job is sent, and pg-boss would then poll only every 30 s: a
        // backlog (left by a burst of deliveries, or by a Postgres outage) drained one job per
        // worker per 30 s. NOTIFY stays a latency hint on top of the usual 1 s polling.
        ...("notify" in definition.options && definition.options.notify
          ? { notifyPollingIntervalSeconds: 1 }
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
        const run = () =>
          handler(data, { jobId: job.id, log, finalAttempt: job.retryCount >= job.retryLimit });
        try {
          if (definition.installationGroup && "installationId" in data) {
            const holder = { job: job.id, attempt: job.retryCount };
            await withInstallationSlot(deps, data.installationId, holder, log, run, job.signal);
          } else {
            await run();
          }
        } catch (error) {
          // pg-boss records the outcome in Postgres: if Postgres is what failed the job, that record
          // would fail too and leave the job claimed until it expires. Wait for Postgres first.
          await waitForDatabase(deps.database, { timeoutMs: DATABASE_OUTAGE_WAIT_MS });
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
