import type { PgBoss } from "pg-boss";
import { enqueue } from "./boss.js";
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

/** Daily retention run, 03:30 UTC: after the nightly syncs of most time zones. */
const RETENTION_CRON = "30 3 * * *";
/** The cron of a job every `minutes` (1-60). */
const everyMinutes = (minutes: number) => (minutes === 60 ? "0 * * * *" : `*/${minutes} * * * *`);

/**
 * The deployment-wide schedules: the webhook redelivery scan every few minutes, the hourly
 * installation reconciliation and the daily retention run. Idempotent, so every replica calls it
 * at start; pg-boss sends each occurrence once across replicas. A scan and a reconciliation are
 * also queued at once: deliveries that failed while the app was down (the commonest reason they
 * fail) are repaired now, not at the next tick; replicas starting together share each (singleton).
 */
export async function scheduleMaintenance(
  boss: PgBoss,
  options: { redeliveryIntervalMinutes: number; reconcileIntervalMinutes: number },
): Promise<void> {
  await scheduleEvery(boss, "redeliverWebhooks", options.redeliveryIntervalMinutes);
  await scheduleEvery(boss, "reconcileInstallations", options.reconcileIntervalMinutes);
  await boss.schedule(
    catalog.retention.name,
    RETENTION_CRON,
    {},
    { tz: "UTC", singletonKey: "all", missed: "once" },
  );
}

/** A deployment-wide job every `minutes` and once now; 0 takes the schedule away. */
async function scheduleEvery(
  boss: PgBoss,
  key: "redeliverWebhooks" | "reconcileInstallations",
  minutes: number,
): Promise<void> {
  const { name } = catalog[key];
  if (minutes === 0) {
    await boss.unschedule(name);
    return;
  }
  await boss.schedule(name, everyMinutes(minutes), {}, { tz: "UTC", singletonKey: "all", missed: "once" });
  await enqueue(boss, key, {});
}
