import { findDelivery, markDelivery } from "../../db/queries/webhook-deliveries.js";
import { describeError, InvalidInputError } from "../../errors.js";
import type { JobData } from "../../queue/catalog.js";
import type { JobContext, JobDeps } from "./deps.js";

/**
 * Runs a stored delivery through Probot's handlers (src/github/app.ts). A delivery already
 * processed is skipped, so a job retried after a crash does no work twice. A delivery is `failed`
 * only once its last retry failed (src/webhooks/recovery.ts picks those up again); a payload the
 * handlers refuse is `ignored` with the reason, since no retry can change it.
 */
export function processWebhook(deps: JobDeps) {
  return async ({ deliveryId }: JobData<"processWebhook">, { log, finalAttempt }: JobContext) => {
    const db = deps.database.db;
    const delivery = await findDelivery(db, deliveryId);
    if (!delivery) {
      log.warn({ deliveryId }, "delivery not found");
      return;
    }
    if (delivery.status === "processed" || delivery.status === "ignored") return;
    if (delivery.payload === null) {
      // Past its retention period: nothing left to process.
      await markDelivery(db, deliveryId, { status: "ignored", error: "payload no longer kept" });
      return;
    }
    try {
      await deps.probot.receive({
        id: delivery.id,
        name: delivery.event,
        payload: delivery.payload,
      } as Parameters<typeof deps.probot.receive>[0]);
      await markDelivery(db, deliveryId, { status: "processed" });
      deps.metrics?.webhookProcessed(delivery.event, "processed", delivery.receivedAt);
    } catch (error) {
      const cause = error instanceof AggregateError && error.errors.length > 0 ? error.errors[0] : error;
      if (cause instanceof InvalidInputError) {
        // A payload that does not match its event (stored before intake checked it) will not on a retry.
        log.warn({ deliveryId, event: delivery.event, reason: cause.message }, "webhook delivery refused");
        await markDelivery(db, deliveryId, { status: "ignored", error: describeError(cause) });
        deps.metrics?.webhookProcessed(delivery.event, "ignored", delivery.receivedAt);
        return;
      }
      await markDelivery(db, deliveryId, {
        status: finalAttempt ? "failed" : "queued",
        error: describeError(cause),
      });
      deps.metrics?.webhookProcessed(delivery.event, finalAttempt ? "failed" : "retry");
      throw cause;
    }
  };
}
