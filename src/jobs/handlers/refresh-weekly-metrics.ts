import { findInstallation } from "../../db/queries/installations.js";
import { refreshWeeklyMetrics } from "../../db/queries/weekly-metrics.js";
import { parseInstallationSettings } from "../../settings.js";
import type { JobData } from "../catalog.js";
import type { JobContext, JobDeps } from "./deps.js";

/**
 * Recomputes the weekly aggregates of the weeks a change touched. Only stored rows are read, so a
 * suspended installation is refreshed too; a deleted one is not.
 */
export function refreshWeeklyMetricsJob(deps: JobDeps) {
  return async (data: JobData<"refreshWeeklyMetrics">, { log }: JobContext) => {
    const installation = await findInstallation(deps.database.db, data.installationId);
    if (!installation || installation.deletedAt) {
      log.info("installation gone; weekly metrics not refreshed");
      return;
    }
    const { timezone } = parseInstallationSettings(installation.settings);
    await refreshWeeklyMetrics(deps.database.db, data.installationId, data.weeks, timezone);
    log.debug({ weeks: data.weeks, timezone }, "weekly metrics refreshed");
  };
}
