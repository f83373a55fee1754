import { purgeInstallationBatch } from "../../db/queries/retention.js";
import { enqueue } from "../../queue/boss.js";
import type { JobData } from "../../queue/catalog.js";
import type { JobContext, JobDeps, JobOutput } from "./deps.js";

const DAY_MS = 86_400_000;
/** Rows per statement: short transactions, bounded locks, however large the installation. */
const PURGE_BATCH = 5000;
/** A run works this long, then queues its continuation. */
const SLICE_MS = 60_000;

/**
 * Deletes everything stored for an installation uninstalled more than UNINSTALLED_RETENTION_DAYS
 * ago, the installation row last. Every batch re-checks the uninstall, so a reinstall during the
 * purge stops it; webhook delivery rows stay (their payloads go with retention).
 */
export function purgeInstallation(deps: JobDeps) {
  return async (data: JobData<"purgeInstallation">, { log }: JobContext): Promise<JobOutput> => {
    const days = deps.config.operations.uninstalledRetentionDays;
    if (days === 0) return { skipped: "retention_disabled" };
    const cutoff = new Date(deps.now().getTime() - days * DAY_MS);
    const sliceEnd = Date.now() + SLICE_MS;
    let deleted = 0;
    for (;;) {
      const batch = await purgeInstallationBatch(deps.database.db, data.installationId, cutoff, PURGE_BATCH);
      deleted += batch;
      if (batch === 0) break;
      if (Date.now() >= sliceEnd || deps.stopping?.aborted) {
        await enqueue(deps.boss, "purgeInstallation", data);
        log.info({ deleted }, "installation purge continues");
        return { deleted, finished: false };
      }
    }
    log.info({ deleted }, "uninstalled installation purged");
    return { deleted, finished: true };
  };
}
