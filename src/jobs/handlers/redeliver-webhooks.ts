import { enqueue } from "../../queue/boss.js";
import type { JobData } from "../../queue/catalog.js";
import {
  redeliverMissedDeliveries,
  requeueStrandedDeliveries,
  retryFailedDeliveries,
} from "../../webhooks/recovery.js";
import type { JobContext, JobDeps, JobOutput } from "./deps.js";

/** Failed deliveries queued again per run: a backlog drains over a few runs, never in one burst. */
const RETRIES_PER_RUN = 200;

/**
 * Every few minutes and at start, once across replicas: failed deliveries from our table get
 * another round, queued ones whose job is gone a job again, then what GitHub failed to deliver is
 * repaired (src/webhooks/recovery.ts). A run that leaves work (a long list still to read,
 * redeliveries beyond its budget) queues the next run at once: after an outage the repair goes on
 * without waiting for the schedule.
 */
export function redeliverWebhooks(deps: JobDeps) {
  return async (_data: JobData<"redeliverWebhooks">, { log }: JobContext): Promise<JobOutput> => {
    const retried = await retryFailedDeliveries({ ...deps, log }, RETRIES_PER_RUN);
    const requeued = await requeueStrandedDeliveries({ ...deps, log }, RETRIES_PER_RUN);
    const budget = deps.config.operations.redeliveryMaxPerRun;
    if (budget === 0) return { retried, requeued };
    const run = await redeliverMissedDeliveries({ ...deps, log }, budget);
    const workLeft = !run.finished || run.pending > 0;
    if (workLeft && !deps.stopping?.aborted) await enqueue(deps.boss, "redeliverWebhooks", {});
    return { retried, requeued, ...run };
  };
}
