import { withTransaction } from "../../db/client.js";
import { findInstallation } from "../../db/queries/installations.js";
import { refreshWeeklyMetrics, takePendingWeeks } from "../../db/queries/weekly-metrics.js";
import type { JobData } from "../../queue/catalog.js";
import { parseInstallationSettings } from "../../settings.js";
import type { JobContext, JobDeps } from "./deps.js";

/**
 * Recomputes the weekly aggregates of the weeks changes marked pending, all of the installation's
 * at once. Only stored rows are read, so a suspended installation is refreshed too; a deleted one
 * is not.
 */
export function refreshWeeklyMetricsJob(deps: JobDeps) {
  return async (data: JobData<"refreshWeeklyMetrics">, { log }: JobContext) => {
    const installation = await findInstallation(deps.database.db, data.installationId);
    if (!installation || installation.deletedAt) {
      log.info("installation gone; weekly metrics not refreshed");
      return;
    }
    const { timezone } = parseInstallationSettings(installation.settings);
    const weeks = await withTransaction(deps.database, async (db) => {
      const pending = await takePendingWeeks(db, data.installationId);
      await refreshWeeklyMetrics(db, data.installationId, pending, timezone);
      return pending;
    });
    log.debug({ weeks, timezone }, "weekly metrics refreshed");
  };
}
