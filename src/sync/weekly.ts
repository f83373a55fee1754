import type { PgBoss } from "pg-boss";
import type { Db } from "../db/client.js";
import { markWeeksPending } from "../db/queries/weekly-metrics.js";
import { affectedWeeks, type DatedPullRequest } from "../metrics/weeks.js";
import { enqueue } from "../queue/boss.js";

/**
 * Marks the weeks these pull requests count in as out of date and queues the installation's
 * weekly-metrics job, in the caller's transaction. The job is debounced per installation, so a
 * backfill writing a page a second refreshes its weeks once every few seconds, not once a page.
 * Pass the stored dates too when a pull request changed: the weeks it leaves need a refresh as well.
 */
export async function queueWeeklyRefresh(
  boss: PgBoss,
  db: Db,
  installationId: number,
  timeZone: string,
  prs: readonly DatedPullRequest[],
): Promise<void> {
  await queueWeeks(boss, db, installationId, affectedWeeks(prs, timeZone));
}

/** Marks these weeks out of date and queues the installation's refresh (in the caller's transaction). */
export async function queueWeeks(
  boss: PgBoss,
  db: Db,
  installationId: number,
  weeks: string[],
): Promise<void> {
  if (weeks.length === 0) return;
  await markWeeksPending(db, installationId, weeks);
  await enqueue(boss, "refreshWeeklyMetrics", { installationId }, { tx: db });
}
