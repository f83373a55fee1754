import type { PgBoss } from "pg-boss";
import { withTransaction, type Database } from "../db/client.js";
import { getInstallationSettings, updateInstallation } from "../db/queries/installations.js";
import { enqueue } from "../queue/boss.js";
import { scheduleNightlySync } from "../queue/schedule.js";
import type { InstallationSettings } from "../settings.js";

export interface SettingsChange {
  patternsChanged: boolean;
  timezoneChanged: boolean;
  workingTimeChanged: boolean;
  exclusionsChanged: boolean;
}

/** The settings working hours are made of, besides the timezone. */
const WORKING_TIME_KEYS = ["workDays", "workStart", "workEnd", "holidays"] as const;
/** The exclusion settings (src/metrics/exclusions.ts). */
const EXCLUSION_KEYS = [
  "excludedLabels",
  "excludedAuthors",
  "excludedHeadBranchPattern",
  "excludedBaseBranchPattern",
] as const;

const differ = (
  before: InstallationSettings,
  after: InstallationSettings,
  keys: readonly (keyof InstallationSettings)[],
) => keys.some((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));

/**
 * Saves an installation's settings (already validated). New patterns, a new timezone, new working
 * hours or new exclusions queue the job that recomputes the stored pull requests' flags and durations and the weekly
 * figures; a new timezone also moves the nightly sync.
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
      workingTimeChanged: differ(before, settings, WORKING_TIME_KEYS),
      exclusionsChanged: differ(before, settings, EXCLUSION_KEYS),
    };
    if (
      result.patternsChanged ||
      result.timezoneChanged ||
      result.workingTimeChanged ||
      result.exclusionsChanged
    ) {
      await enqueue(boss, "recomputePullRequests", { installationId }, { tx: db });
    }
    return result;
  });
  if (change.timezoneChanged) await scheduleNightlySync(boss, installationId, settings.timezone);
  return change;
}
