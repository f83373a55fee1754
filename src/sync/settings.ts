import type { PgBoss } from "pg-boss";
import { withTransaction, type Database } from "../db/client.js";
import { getInstallationSettings, updateInstallation } from "../db/queries/installations.js";
import { enqueue } from "../queue/boss.js";
import { scheduleNightlySync } from "../queue/schedule.js";
import type { InstallationSettings } from "../settings.js";

export interface SettingsChange {
  patternsChanged: boolean;
  timezoneChanged: boolean;
}

/**
 * Saves an installation's settings (already validated). New patterns or a new timezone queue the
 * job that recomputes the stored pull requests' flags and the weekly figures; a new timezone also
 * moves the nightly sync.
 */
export async function saveSettings(
  database: Pick<Database, "db">,
  boss: PgBoss,
  installationId: number,
  settings: InstallationSettings,
): Promise<SettingsChange> {
  const change = await withTransaction(database, async (db) => {
    const before = await getInstallationSettings(db, installationId);
    await updateInstallation(db, installationId, { settings });
    const result: SettingsChange = {
      patternsChanged:
        before.hotfixBranchPattern !== settings.hotfixBranchPattern ||
        before.hotfixTitlePattern !== settings.hotfixTitlePattern ||
        before.revertTitlePattern !== settings.revertTitlePattern,
      timezoneChanged: before.timezone !== settings.timezone,
    };
    if (result.patternsChanged || result.timezoneChanged) {
      await enqueue(boss, "recomputePullRequests", { installationId }, { tx: db });
    }
    return result;
  });
  if (change.timezoneChanged) await scheduleNightlySync(boss, installationId, settings.timezone);
  return change;
}
