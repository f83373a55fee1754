import type { PgBoss } from "pg-boss";
import { catalog } from "./catalog.js";

/** 02:00 every night, in the installation's own timezone. */
export const NIGHTLY_CRON = "0 2 * * *";

/**
 * Creates or moves an installation's nightly delta sync: one schedule per installation, by key.
 * pg-boss fires each schedule once across every replica.
 */
export async function scheduleNightlySync(
  boss: PgBoss,
  installationId: number,
  timeZone: string,
): Promise<void> {
  await boss.schedule(
    catalog.deltaSync.name,
    NIGHTLY_CRON,
    { installationId },
    {
      tz: timeZone,
      key: String(installationId),
      singletonKey: catalog.deltaSync.singletonKey!({ installationId }),
      group: { id: String(installationId) },
    },
  );
}

export async function unscheduleNightlySync(boss: PgBoss, installationId: number): Promise<void> {
  await boss.unschedule(catalog.deltaSync.name, String(installationId));
}
