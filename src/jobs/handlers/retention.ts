import { purgeDeliveryPayloads } from "../../db/queries/webhook-deliveries.js";
import { listInstallationsDeletedBefore } from "../../db/queries/retention.js";
import { enqueue } from "../../queue/boss.js";
import type { JobData } from "../../queue/catalog.js";
import type { JobContext, JobDeps, JobOutput } from "./deps.js";

const DAY_MS = 86_400_000;
/** Rows per statement: each one is a short transaction that never holds many locks. */
const RETENTION_BATCH = 1000;
/** A run works this long, then queues its continuation, well inside the queue's expiry. */
const SLICE_MS = 60_000;

/**
 * Daily: drops webhook payloads older than WEBHOOK_PAYLOAD_RETENTION_DAYS (the delivery rows stay)
 * and queues the purge of installations uninstalled more than UNINSTALLED_RETENTION_DAYS ago.
 */
export function retention(deps: JobDeps) {
  return async (_data: JobData<"retention">, { log }: JobContext): Promise<JobOutput> => {
    const { payloadRetentionDays, uninstalledRetentionDays } = deps.config.operations;
    const db = deps.database.db;
    const now = deps.now().getTime();

    // 1. Payloads, in batches, until none is left or the slice is used up.
    let payloadsPurged = 0;
    if (payloadRetentionDays > 0) {
      const cutoff = new Date(now - payloadRetentionDays * DAY_MS);
      const sliceEnd = Date.now() + SLICE_MS;
      for (;;) {
        const purged = await purgeDeliveryPayloads(db, cutoff, RETENTION_BATCH);
        payloadsPurged += purged;
        if (purged < RETENTION_BATCH) break;
        if (Date.now() >= sliceEnd || deps.stopping?.aborted) {
          await enqueue(deps.boss, "retention", {});
          break;
        }
      }
    }

    // 2. Installations past their grace period: one purge job each.
    let installationsQueued = 0;
    if (uninstalledRetentionDays > 0) {
      const cutoff = new Date(now - uninstalledRetentionDays * DAY_MS);
      for (const installationId of await listInstallationsDeletedBefore(db, cutoff)) {
        await enqueue(deps.boss, "purgeInstallation", { installationId });
        installationsQueued += 1;
      }
    }
    log.info({ payloadsPurged, installationsQueued }, "retention run");
    return { payloadsPurged, installationsQueued };
  };
}
