import type { JobResult, JobWithMetadata, PgBoss } from "pg-boss";
import { waitForDatabase } from "../db/client.js";
import { AttemptEndedError, describeError, RateLimitedError } from "../errors.js";
import { enqueue } from "../queue/boss.js";
import { catalog, type JobData, type QueueKey } from "../queue/catalog.js";
import type { BatchHandler, JobContext, JobDeps, JobOutput } from "./handlers/deps.js";
import { backfillRepo } from "./handlers/backfill-repo.js";
import { confirmInstallation } from "./handlers/confirm-installation.js";
import { deltaSync } from "./handlers/delta-sync.js";
import { membersSync } from "./handlers/members-sync.js";
import { processWebhooks } from "./handlers/process-webhook.js";
import { reconcileInstallationsJob } from "./handlers/reconcile-installations.js";
import { recomputePullRequestsJob } from "./handlers/recompute-pull-requests.js";
import { purgeInstallation } from "./handlers/purge-installation.js";
import { redeliverWebhooks } from "./handlers/redeliver-webhooks.js";
import { refreshPullRequest } from "./handlers/refresh-pull-request.js";
import { refreshWeeklyMetricsJob } from "./handlers/refresh-weekly-metrics.js";
import { retention } from "./handlers/retention.js";
import { syncRepositoriesJob } from "./handlers/sync-repositories.js";
import { withInstallationSlot } from "./installation-slot.js";
import { assertJobsOutlastDeadlines } from "./job-deadlines.js";

type JobHandler<K extends QueueKey> = (data: JobData<K>, context: JobContext) => Promise<JobOutput>;
type HandlerFactories = {
  [K in QueueKey]: (deps: JobDeps) => JobHandler<K> | { batch: BatchHandler<K> };
};

/** Every queue of the catalog has its handler here; a queue without one does not compile. */
const jobHandlers: HandlerFactories = {
  processWebhook: processWebhooks,
  refreshPullRequest,
  syncRepositories: syncRepositoriesJob,
  backfillRepo,
  deltaSync,
  membersSync,
  refreshWeeklyMetrics: refreshWeeklyMetricsJob,
  recomputePullRequests: recomputePullRequestsJob,
  redeliverWebhooks,
  reconcileInstallations: reconcileInstallationsJob,
  confirmInstallation,
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
  assertJobsOutlastDeadlines(deps.config.github.deadlines);
  for (const key of queues) {
    const definition = catalog[key];
    const handler = (
      jobHandlers[key] as (deps: JobDeps) => JobHandler<typeof key> | { batch: BatchHandler<typeof key> }
    )(deps);
    const webhooks = key === "processWebhook";
    // Sync jobs run for seconds and hold GitHub's budget: one per fetch, few at a time.
    const batchSize = webhooks ? deps.config.webhookBatchSize : 1;
    const concurrency = webhooks
      ? deps.config.webhookWorkerConcurrency
      : deps.config.syncConcurrencyPerInstallation;

    const contextOf = (job: JobWithMetadata<unknown>) => {
      const data = definition.schema.parse(job.data) as JobData<typeof key>;
      const log = deps.log.child({
        jobId: job.id,
        queue: definition.name,
        ...("installationId" in data ? { installationId: data.installationId } : {}),
      });
      return {
        data,
        context: { jobId: job.id, log, finalAttempt: job.retryCount >= job.retryLimit, signal: job.signal },
      };
    };

    const waitForPostgres = () => waitForDatabase(deps.database, { timeoutMs: DATABASE_OUTAGE_WAIT_MS });

    /** A job that threw: rescheduled when GitHub's budget ran out, else failed with a clean message. */
    const settleFailure = async (
      job: JobWithMetadata<unknown>,
      data: JobData<typeof key>,
      { log }: JobContext,
      error: unknown,
      timed: ((outcome: "failed" | "rate_limited") => void) | undefined,
      databaseBack: () => Promise<boolean> = waitForPostgres,
    ): Promise<JobResult> => {
      timed?.(error instanceof RateLimitedError ? "rate_limited" : "failed");
      // pg-boss records the outcome in Postgres: if Postgres is what failed the job, that record
      // would fail too and leave the job claimed until it expires. Wait for Postgres first.
      await databaseBack();
      if (error instanceof RateLimitedError) {
        log.warn({ resetAt: error.resetAt, kind: error.kind }, "rate limited; job rescheduled");
        await enqueue(boss, key, data, { startAfter: error.resetAt });
        return { id: job.id, status: "completed" };
      }
      if (error instanceof AttemptEndedError) {
        // pg-boss settled the attempt already (expired: retried; process stopping: handed back).
        log.warn("job attempt ended before its work; github calls and slot given up");
        return { id: job.id, status: "failed", output: { message: describeError(error) } };
      }
      log.error({ err: error, code: (error as { code?: string }).code }, "job failed");
      // pg-boss keeps the output (jsonb): the text carries no query parameters and no U+0000.
      return { id: job.id, status: "failed", output: { message: describeError(error) } };
    };

    const run = async (job: JobWithMetadata<unknown>, perJob: JobHandler<typeof key>): Promise<JobResult> => {
      const { data, context } = contextOf(job);
      const timed = deps.metrics?.startJob(definition.name);
      try {
        const work = () => perJob(data, context);
        const slotOf =
          definition.installationGroup && "installationId" in data ? data.installationId : undefined;
        // What the handler returns (why it skipped, say) is kept as the job's output.
        const output =
          slotOf !== undefined
            ? await withInstallationSlot(
                deps,
                slotOf,
                { job: job.id, attempt: job.retryCount },
                context.log,
                work,
                job.signal,
              )
            : await work();
        timed?.("completed");
        return { id: job.id, status: "completed", ...(output ? { output } : {}) };
      } catch (error) {
        return settleFailure(job, data, context, error, timed);
      }
    };

    /** The whole fetch to a batch handler: an outcome per job, or the batch's error for every job. */
    const runBatch = async (
      jobs: JobWithMetadata<unknown>[],
      batch: BatchHandler<typeof key>,
    ): Promise<JobResult[]> => {
      const prepared = jobs.map((job) => ({
        job,
        ...contextOf(job),
        timed: deps.metrics?.startJob(definition.name),
      }));
      let outcomes: Awaited<ReturnType<BatchHandler<typeof key>>>;
      try {
        outcomes = await batch(prepared.map(({ data, context }) => ({ data, context })));
      } catch (error) {
        outcomes = prepared.map(() => ({ ok: false as const, error }));
      }
      // A batch that failed together (Postgres gone, say) waits for Postgres once, not once per job.
      let databaseChecked: Promise<boolean> | undefined;
      const databaseBack = () => (databaseChecked ??= waitForPostgres());
      const results: JobResult[] = [];
      for (const [index, { job, data, context, timed }] of prepared.entries()) {
        const outcome = outcomes[index]!;
        if (outcome.ok) {
          timed?.("completed");
          results.push({
            id: job.id,
            status: "completed",
            ...(outcome.output ? { output: outcome.output } : {}),
          });
        } else {
          results.push(await settleFailure(job, data, context, outcome.error, timed, databaseBack));
        }
      }
      return results;
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
        if ("batch" in handler) return runBatch(jobs, handler.batch);
        const results: JobResult[] = [];
        // One after another: concurrency comes from the workers, each holding one database transaction.
        for (const job of jobs) results.push(await run(job, handler));
        return results;
      },
    );
  }
}
