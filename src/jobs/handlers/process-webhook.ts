import { findDelivery, markDelivery } from "../../db/queries/webhook-deliveries.js";
import { describeError, InvalidInputError } from "../../errors.js";
import type { JobData } from "../../queue/catalog.js";
import type { JobContext, JobDeps } from "./deps.js";

/**
 * Runs a stored delivery through Probot's handlers (src/github/app.ts). A delivery already
 * processed is skipped, so a job retried after a crash does no work twice.
 */
export function processWebhook(deps: JobDeps) {
  return async ({ deliveryId }: JobData<"processWebhook">, { log }: JobContext) => {
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
    } catch (error) {
      const cause = error instanceof AggregateError && error.errors.length > 0 ? error.errors[0] : error;
      if (cause instanceof InvalidInputError) {
        // A payload that does not match its event (stored before intake checked it) will not on a retry.
        await markDelivery(db, deliveryId, { status: "ignored", error: describeError(cause) });
        log.warn({ deliveryId, reason: cause.message }, "stored delivery does not match its event");
        return;
      }
      await markDelivery(db, deliveryId, { status: "failed", error: describeError(cause) });
      throw cause;
    }
  };
}
