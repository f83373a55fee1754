import { findInstallation } from "../../db/queries/installations.js";
import { compactCommitAuthorCounts } from "../../db/queries/members.js";
import {
  clearPendingWeeks,
  listPendingWeeks,
  refreshWeeklyMetrics,
} from "../../db/queries/weekly-metrics.js";
import type { JobData } from "../../queue/catalog.js";
import { parseInstallationSettings } from "../../settings.js";
import type { JobContext, JobDeps } from "./deps.js";

/**
 * Recomputes the weekly aggregates of the weeks changes marked pending, all of the installation's
 * at once, and folds the commit counts per author the same writes appended. Only stored rows are read, so a suspended installation is refreshed too; a deleted one
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
    // Each statement reads what is committed when it starts: a change committed after the refresh
    // read its week marked the week again, and the clear below leaves it for the next job.
    const db = deps.database.db;
    const pending = await listPendingWeeks(db, data.installationId);
    await refreshWeeklyMetrics(
      db,
      data.installationId,
      pending.map((week) => week.weekStart),
      timezone,
    );
    await clearPendingWeeks(db, data.installationId, pending);
    // The writes that marked these weeks appended commit counts too: the members page reads fewer rows.
    await compactCommitAuthorCounts(db, data.installationId);
    log.debug({ weeks: pending.length, timezone }, "weekly metrics refreshed");
  };
}
