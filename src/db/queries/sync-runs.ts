import { sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { repositories, syncRuns } from "../schema/index.js";

export interface NewSyncRun {
  installationId: number;
  repoId: number;
  startedAt: Date;
  finishedAt: Date;
  changed: number;
  drift: number;
  /** GitHub queries that asked about this repository (one about a hundred counts for each). */
  queries: number;
}

/** Records finished delta syncs, one row per repository. */
export async function insertSyncRuns(db: Db, runs: NewSyncRun[]): Promise<void> {
  if (runs.length === 0) return;
  await db.insert(syncRuns).values(runs.map((run) => ({ ...run, kind: "delta" as const })));
}

export interface DriftNight {
  repoId: number;
  fullName: string;
  /** The night, as the local date (YYYY-MM-DD) in `timeZone` the sync started on. */
  night: string;
  drift: number;
  runs: number;
}

/**
 * The drift delta syncs found per repository and night since `since`, nights counted in the
 * installation's zone (its nightly sync runs at 02:00 there). A night with several runs (a "sync
 * now" besides the nightly one) adds them up. Served by sync_runs_installation_finished_idx.
 */
export async function listDriftByNight(
  db: Db,
  installationId: number,
  options: { since: Date; timeZone: string },
): Promise<DriftNight[]> {
  const rows = await db.execute<{
    repo_id: string;
    full_name: string | null;
    night: string;
    drift: number;
    runs: number;
  }>(sql`
    select r.repo_id, repo.full_name,
           to_char((r.started_at at time zone ${options.timeZone})::date, 'YYYY-MM-DD') as night,
           sum(r.drift)::int as drift, count(*)::int as runs
    from ${syncRuns} r
    left join ${repositories} repo on repo.id = r.repo_id
    where r.installation_id = ${installationId} and r.finished_at >= ${options.since.toISOString()}::timestamptz
    group by r.repo_id, repo.full_name, 3
    order by repo.full_name, r.repo_id, 3`);
  return [...rows].map((row) => ({
    repoId: Number(row.repo_id),
    fullName: row.full_name ?? `repository ${row.repo_id}`,
    night: row.night,
    drift: row.drift,
    runs: row.runs,
  }));
}
