import { findInstallation, isSyncable } from "../../db/queries/installations.js";
import type { Installation } from "../../db/schema/index.js";
import { parseInstallationSettings } from "../../settings.js";
import type { SyncContext } from "../../sync/sync-context.js";
import type { JobContext, JobDeps } from "./deps.js";

/**
 * A sync context for an installation that can be synced; undefined for one that was deleted or is
 * suspended (its jobs end quietly; unsuspending queues a sync again). Its GitHub client stops
 * calling GitHub when the job attempt ends.
 */
export async function openSyncContext(
  deps: JobDeps,
  installationId: number,
  { log, signal }: Pick<JobContext, "log" | "signal">,
): Promise<{ ctx: SyncContext; installation: Installation } | undefined> {
  const installation = await findInstallation(deps.database.db, installationId);
  if (!isSyncable(installation)) {
    log.info({ installationId }, "installation not syncable; job skipped");
    return undefined;
  }
  const client = await deps.github(installationId, log, { signal });
  return {
    installation,
    ctx: {
      database: deps.database,
      boss: deps.boss,
      client,
      installationId,
      settings: parseInstallationSettings(installation.settings),
      log,
      now: deps.now,
      reservePercent: deps.config.rateLimitReservePercent,
      metrics: deps.metrics,
      firstWindowDays: deps.config.backfillFirstWindowDays,
    },
  };
}
