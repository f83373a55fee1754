import { withTransaction } from "../../db/client.js";
import { findInstallation } from "../../db/queries/installations.js";
import { parseInstallationSettings } from "../../settings.js";
import { fetchPullRequest, saveSnapshots, snapshotRows } from "../../sync/pull-request-snapshot.js";
import { enqueueWeeklyRefresh } from "../../sync/weekly.js";
import type { JobData } from "../catalog.js";
import type { JobContext, JobDeps } from "./deps.js";

/** Fetches one pull request with all its reviews and commits and stores it: what webhooks lack. */
export function refreshPullRequest(deps: JobDeps) {
  return async (data: JobData<"refreshPullRequest">, { log }: JobContext) => {
    const installation = await findInstallation(deps.database.db, data.installationId);
    if (!installation || installation.deletedAt || installation.suspendedAt) return;
    const client = await deps.github(data.installationId, log);
    const snapshot = await fetchPullRequest(client, data.nodeId);
    if (!snapshot) {
      log.info({ pullRequestId: data.pullRequestId }, "pull request no longer on GitHub");
      return;
    }
    const settings = parseInstallationSettings(installation.settings);
    const rows = snapshotRows(snapshot, data.installationId, data.repoId, settings, deps.now());
    await withTransaction(deps.database, async (db) => {
      const written = await saveSnapshots(db, [rows]);
      if (written.length > 0) {
        await enqueueWeeklyRefresh(deps.boss, db, data.installationId, settings.timezone, [rows.pullRequest]);
      }
    });
  };
}
