import { and, isNotNull, lt, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import {
  commits,
  installations,
  members,
  pullRequests,
  repositories,
  reviews,
  teamMembers,
  teams,
  weeklyMetrics,
  weeklyMetricsPending,
} from "../schema/index.js";

/** Installations uninstalled before `cutoff`: their data is due for purging. */
export async function listInstallationsDeletedBefore(db: Db, cutoff: Date): Promise<number[]> {
  const rows = await db
    .select({ id: installations.id })
    .from(installations)
    .where(and(isNotNull(installations.deletedAt), lt(installations.deletedAt, cutoff)))
    .orderBy(installations.id);
  return rows.map((row) => row.id);
}

/** Children before parents: the foreign keys point at installations. */
const PURGE_ORDER = [
  reviews,
  commits,
  pullRequests,
  weeklyMetricsPending,
  weeklyMetrics,
  teamMembers,
  teams,
  members,
  repositories,
] as const;

/**
 * Deletes up to `limit` rows of an uninstalled installation's data, table after table, the
 * installation row last. Every statement re-checks that the installation is still uninstalled
 * since before `cutoff`, so a reinstall in the middle of a purge stops it at once. Returns the
 * rows deleted; 0 means nothing is left (or the installation came back).
 */
export async function purgeInstallationBatch(
  db: Db,
  installationId: number,
  cutoff: Date,
  limit: number,
): Promise<number> {
  // A Date is not a parameter raw SQL takes through postgres.js: pass the instant as text.
  const stillGone = sql`exists (select 1 from ${installations} where ${installations.id} = ${installationId} and ${installations.deletedAt} < ${cutoff.toISOString()}::timestamptz)`;
  for (const table of PURGE_ORDER) {
    const result = await db.execute(sql`
      delete from ${table}
      where ctid = any(array(
        select ctid from ${table} where installation_id = ${installationId} limit ${limit}
      )) and ${stillGone}`);
    if (result.count > 0) return result.count;
  }
  const result = await db.execute(sql`
    delete from ${installations} where ${installations.id} = ${installationId} and ${stillGone}`);
  return result.count;
}
