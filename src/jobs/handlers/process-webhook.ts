import { withTransaction } from "../../db/client.js";
import {
  findDeliveries,
  markDeliveriesProcessed,
  markDelivery,
} from "../../db/queries/webhook-deliveries.js";
import type { DeliveryStatus, WebhookDelivery } from "../../db/schema/index.js";
import { describeError, InvalidInputError } from "../../errors.js";
import type { WebhookProcessingOutcome } from "../../observability/metrics.js";
import { FollowUps, gatherFollowUps } from "../../webhooks/follow-ups.js";
import type { BatchJob, BatchOutcome, JobDeps } from "./deps.js";

/** A delivery queued again waits for its job's retry. */
const METRIC_OUTCOMES: Record<DeliveryStatus, WebhookProcessingOutcome> = {
  processed: "processed",
  ignored: "ignored",
  queued: "retry",
  failed: "failed",
};

type Recorded = { delivery: WebhookDelivery; status: DeliveryStatus; error?: string };

/**
 * Runs a batch of stored deliveries through Probot's handlers (src/webhooks/app.ts), one after
 * another, then records every outcome and does the follow-ups the handlers left (refreshes, weeks,
 * repository activity: src/webhooks/follow-ups.ts) in one transaction. A delivery already
 * processed is skipped, so a job retried after a crash does no work twice; if that last transaction
 * fails, every job of the batch fails and runs again.
 *
 * A delivery is `failed` only once its last retry failed (src/webhooks/recovery.ts picks those up
 * again); a payload the handlers refuse is `ignored` with the reason, since no retry can change it.
 */
export function processWebhooks(deps: JobDeps) {
  return {
    batch: async (jobs: BatchJob<"processWebhook">[]): Promise<BatchOutcome[]> => {
      const stored = await findDeliveries(
        deps.database.db,
        jobs.map(({ data }) => data.deliveryId),
      );
      const followUps = new FollowUps();
      const recorded: Recorded[] = [];
      const seen = new Set<string>();
      const outcomes: BatchOutcome[] = [];
      for (const { data, context } of jobs) {
        const delivery = stored.get(data.deliveryId);
        if (!delivery) {
          context.log.warn({ deliveryId: data.deliveryId }, "delivery not found");
          outcomes.push({ ok: true });
          continue;
        }
        // Done before, or twice in one fetch (a redelivery queued while the first job waited).
        if (delivery.status === "processed" || delivery.status === "ignored" || seen.has(delivery.id)) {
          outcomes.push({ ok: true });
          continue;
        }
        seen.add(delivery.id);
        if (delivery.payload === null) {
          // Past its retention period: nothing left to process.
          recorded.push({ delivery, status: "ignored", error: "payload no longer kept" });
          outcomes.push({ ok: true });
          continue;
        }
        try {
          await gatherFollowUps(followUps, () =>
            deps.probot.receive({
              id: delivery.id,
              name: delivery.event,
              payload: delivery.payload,
            } as Parameters<typeof deps.probot.receive>[0]),
          );
          recorded.push({ delivery, status: "processed" });
          outcomes.push({ ok: true });
        } catch (error) {
          const cause = error instanceof AggregateError && error.errors.length > 0 ? error.errors[0] : error;
          if (cause instanceof InvalidInputError) {
            // A payload that does not match its event (stored before intake checked it) will not on a retry.
            context.log.warn(
              { deliveryId: delivery.id, event: delivery.event, reason: cause.message },
              "webhook delivery refused",
            );
            recorded.push({ delivery, status: "ignored", error: describeError(cause) });
            outcomes.push({ ok: true });
            continue;
          }
          const status = context.finalAttempt ? "failed" : "queued";
          recorded.push({ delivery, status, error: describeError(cause) });
          outcomes.push({ ok: false, error: cause });
        }
      }

      await withTransaction(deps.database, async (db) => {
        await followUps.apply(deps.boss, db);
        await markDeliveriesProcessed(
          db,
          recorded.filter((entry) => entry.status === "processed").map((entry) => entry.delivery.id),
        );
        for (const { delivery, status, error } of recorded) {
          if (status !== "processed") await markDelivery(db, delivery.id, { status, error: error ?? null });
        }
      });

      for (const { delivery, status } of recorded) {
        deps.metrics?.webhookProcessed(delivery.event, METRIC_OUTCOMES[status], delivery.receivedAt);
      }
      return outcomes;
    },
  };
}
