import type { NewRawDelivery } from "../src/db/queries/webhook-deliveries.js";
import { checkPayload } from "../src/webhooks/payloads.js";
import { webhookExample } from "../test/support/webhook-examples.js";

/**
 * Deliveries as the intake's route hands them to storage: GitHub's example pull_request.synchronize
 * payload (23.7 KB), numbered so that no two are alike, its text, bytes and handled part made
 * beforehand. Each call of the result makes `count` more, numbered on from the last.
 */
export function numberedDeliveries(): (count: number) => NewRawDelivery[] {
  const payload = webhookExample("pull_request", "synchronize");
  let n = 0;
  return (count) =>
    Array.from({ length: count }, () => {
      n++;
      const numbered = { ...payload, n };
      const check = checkPayload("pull_request", numbered);
      const payloadJson = JSON.stringify(numbered);
      return {
        id: `d${n}`,
        event: "pull_request",
        action: "synchronize",
        installationId: 1,
        repositoryId: 2,
        status: "queued" as const,
        payloadJson,
        payloadBytes: Buffer.from(payloadJson),
        handledJson: check.handled && check.ok ? check.handledJson : null,
      };
    });
}
