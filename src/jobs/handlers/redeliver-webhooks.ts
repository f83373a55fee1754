import type { JobData } from "../../queue/catalog.js";
import { redeliverMissedDeliveries, retryFailedDeliveries } from "../../webhooks/recovery.js";
import type { JobContext, JobDeps, JobOutput } from "./deps.js";

/** Failed deliveries queued again per run: a backlog drains over a few runs, never in one burst. */
const RETRIES_PER_RUN = 200;

/**
 * Every few minutes, once across replicas: failed deliveries from our table get another round,
 * then GitHub is asked to redeliver what it failed to deliver (src/webhooks/recovery.ts).
 */
export function redeliverWebhooks(deps: JobDeps) {
  return async (_data: JobData<"redeliverWebhooks">, { log }: JobContext): Promise<JobOutput> => {
    const retried = await retryFailedDeliveries({ ...deps, log }, RETRIES_PER_RUN);
    const budget = deps.config.operations.redeliveryMaxPerRun;
    if (budget === 0) return { retried };
    const scan = await redeliverMissedDeliveries({ ...deps, log }, budget);
    return { retried, ...scan };
  };
}
