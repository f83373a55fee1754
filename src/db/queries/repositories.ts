import { and, count, eq, inArray, isNull, lt, lte, ne, or, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { anyOf } from "./any-of.js";
import { MAX_STORED_ERROR_LENGTH } from "../../errors.js";
import {
  installations,
  pullRequests,
  repositories,
  type Repository,
  type SyncStatus,
} from "../schema/index.js";

export interface RepositoryFacts {
  id: number;
  nodeId?: string | null;
  fullName: string;
  private?: boolean;
  archived?: boolean;
  defaultBranch?: string | null;
  /** GitHub's pushed_at, when the source has it. */
  lastActivityAt?: Date | null;
}

/**
 * Records repositories the installation can see. New ones start tracked when `track` is true
 * (auto-track); existing ones keep the tracking an admin chose, and come back from removal.
 * Returns the tracked repositories that still need a backfill (never synced, or failed).
 * Rows are written in id order (touchRepositories's and recordDeltasFinished's), so two writers of
 * the same repositories wait for each other instead of deadlocking; a repository listed twice is
 * written once.
 */
export async function upsertRepositories(
  db: Db,
  installationId: number,
  repos: RepositoryFacts[],
  options: { track: boolean },
): Promise<number[]> {
  if (repos.length === 0) return [];
  const byId = [...new Map(repos.map((repo) => [repo.id, repo])).values()].sort((a, b) => a.id - b.id);
  const rows = await db
    .insert(repositories)
    .values(
      byId.map((repo) => ({
        id: repo.id,
        installationId,
        nodeId: repo.nodeId ?? null,
        fullName: repo.fullName,
        private: repo.private ?? false,
        archived: repo.archived ?? false,
        defaultBranch: repo.defaultBranch ?? null,
        lastActivityAt: repo.lastActivityAt ?? null,
        tracked: options.track,
      })),
    )
    .onConflictDoUpdate({
      target: repositories.id,
      set: {
        installationId: sql`excluded."installation_id"`,
        nodeId: sql`coalesce(excluded."node_id", ${repositories.nodeId})`,
        fullName: sql`excluded."full_name"`,
        private: sql`excluded."private"`,
        archived: sql`excluded."archived"`,
        defaultBranch: sql`coalesce(excluded."default_branch", ${repositories.defaultBranch})`,
        lastActivityAt: sql`greatest(excluded."last_activity_at", ${repositories.lastActivityAt})`,
        // A repository that comes back after removal is tracked again under the same rule as a new one.
        tracked: sql`case when ${repositories.removedAt} is not null then excluded."tracked" else ${repositories.tracked} end`,
        removedAt: null,
        updatedAt: sql`now()`,
      },
    })
    .returning({ id: repositories.id, tracked: repositories.tracked, syncStatus: repositories.syncStatus });
  return rows
    .filter((row) => row.tracked && (row.syncStatus === "pending" || row.syncStatus === "error"))
    .map((row) => row.id);
}

export async function findRepository(db: Db, id: number): Promise<Repository | undefined> {
  const [row] = await db.select().from(repositories).where(eq(repositories.id, id));
  return row;
}

/** The stored repositories among these ids, by id: one statement for a batch of deliveries. */
export async function findRepositories(db: Db, ids: number[]): Promise<Map<number, Repository>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select()
    .from(repositories)
    .where(anyOf(repositories.id, [...new Set(ids)]));
  return new Map(rows.map((row) => [row.id, row]));
}

export async function updateRepository(
  db: Db,
  id: number,
  patch: Partial<Omit<Repository, "id" | "createdAt">>,
): Promise<void> {
  await db
    .update(repositories)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(eq(repositories.id, id));
}

/** Access lost: the repository and its history stay, marked removed and untracked. */
export async function markRepositoriesRemoved(db: Db, installationId: number, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(repositories)
    .set({ removedAt: sql`now()`, tracked: false, updatedAt: sql`now()` })
    .where(and(eq(repositories.installationId, installationId), inArray(repositories.id, ids)));
}

export async function listRepositories(db: Db, installationId: number): Promise<Repository[]> {
  return db
    .select()
    .from(repositories)
    .where(eq(repositories.installationId, installationId))
    .orderBy(repositories.fullName);
}

/** The repositories of an installation that are synced: tracked, and still accessible. */
function trackedOf(installationId: number) {
  return and(
    eq(repositories.installationId, installationId),
    eq(repositories.tracked, true),
    isNull(repositories.removedAt),
  );
}

export async function listTrackedRepositories(db: Db, installationId: number): Promise<Repository[]> {
  return db.select().from(repositories).where(trackedOf(installationId)).orderBy(repositories.fullName);
}

/** Whether the installation tracks any repository (the repositories page explains how to start if not). */
export async function hasTrackedRepositories(db: Db, installationId: number): Promise<boolean> {
  const [row] = await db
    .select({ id: repositories.id })
    .from(repositories)
    .where(trackedOf(installationId))
    .limit(1);
  return row !== undefined;
}

/** Tracked repositories that have not finished their sync (the first backfill notice waits for them). */
export async function countUnfinishedRepositories(db: Db, installationId: number): Promise<number> {
  const [row] = await db
    .select({ value: count() })
    .from(repositories)
    .where(and(trackedOf(installationId), ne(repositories.syncStatus, "complete")));
  return row?.value ?? 0;
}

/** Tracked repositories and the pull requests their backfills stored. */
export async function backfillTotals(
  db: Db,
  installationId: number,
): Promise<{ repos: number; prs: number }> {
  const [row] = await db
    .select({
      repos: sql<number>`count(*)::int`,
      prs: sql<number>`coalesce(sum(${repositories.prsDone}), 0)::int`,
    })
    .from(repositories)
    .where(and(eq(repositories.installationId, installationId), eq(repositories.tracked, true)));
  return { repos: row?.repos ?? 0, prs: row?.prs ?? 0 };
}

export async function countPullRequests(db: Db, installationId: number): Promise<number> {
  const [row] = await db
    .select({ value: count() })
    .from(pullRequests)
    .where(eq(pullRequests.installationId, installationId));
  return row?.value ?? 0;
}

/**
 * Records a failed sync attempt on the repository; `failed` also ends the sync in `error`. The
 * message is stored as given: callers pass text without query parameters.
 */
export async function recordRepositoryFailure(
  db: Db,
  id: number,
  failure: { message: string; code: string; failed: boolean; at: Date },
): Promise<void> {
  await db
    .update(repositories)
    .set({
      lastError: failure.message.slice(0, MAX_STORED_ERROR_LENGTH),
      lastErrorCode: failure.code,
      failureCount: sql`${repositories.failureCount} + 1`,
      ...(failure.failed ? { syncStatus: "error" as const, syncFinishedAt: failure.at } : {}),
      updatedAt: sql`now()`,
    })
    .where(eq(repositories.id, id));
}

/**
 * Claims a manual sync of a tracked repository unless one was claimed within `cooldownSeconds`.
 * Returns the repository's watermark (null: never completed a backfill), or undefined when refused.
 */
export async function claimRepositorySyncNow(
  db: Db,
  installationId: number,
  repoId: number,
  cooldownSeconds: number,
): Promise<{ id: number; watermark: Date | null } | undefined> {
  const [row] = await db
    .update(repositories)
    .set({ manualSyncRequestedAt: sql`now()` })
    .where(
      and(
        eq(repositories.id, repoId),
        eq(repositories.installationId, installationId),
        eq(repositories.tracked, true),
        isNull(repositories.removedAt),
        or(
          isNull(repositories.manualSyncRequestedAt),
          lt(repositories.manualSyncRequestedAt, sql`now() - make_interval(secs => ${cooldownSeconds})`),
        ),
      ),
    )
    .returning({ id: repositories.id, watermark: repositories.watermark });
  return row;
}

/** Paused by GitHub's rate limit until `until`; the pause is counted from its first moment. */
export async function markRepositoryPaused(db: Db, id: number, until: Date, now: Date): Promise<void> {
  await db
    .update(repositories)
    .set({
      syncStatus: "paused_rate_limited",
      pausedUntil: until,
      pausedAt: sql`coalesce(${repositories.pausedAt}, ${now.toISOString()}::timestamptz)`,
      updatedAt: sql`now()`,
    })
    .where(eq(repositories.id, id));
}

export interface RepositorySummary {
  total: number;
  tracked: number;
  /** Tracked repositories by sync status. */
  byStatus: Partial<Record<SyncStatus, number>>;
  /** The tracked repositories syncing now, for their ETA. */
  syncing: Repository[];
}

/** An installation's repositories in a few numbers (two queries, whatever their number). */
export async function summarizeRepositories(db: Db, installationId: number): Promise<RepositorySummary> {
  const rows = await db
    .select({
      tracked: sql<boolean>`${repositories.tracked} and ${repositories.removedAt} is null`,
      status: repositories.syncStatus,
      count: sql<number>`count(*)::int`,
    })
    .from(repositories)
    .where(eq(repositories.installationId, installationId))
    .groupBy(sql`1`, repositories.syncStatus);
  const byStatus: Partial<Record<SyncStatus, number>> = {};
  let total = 0;
  let tracked = 0;
  for (const row of rows) {
    total += row.count;
    if (!row.tracked) continue;
    tracked += row.count;
    byStatus[row.status] = (byStatus[row.status] ?? 0) + row.count;
  }
  const syncing = await db
    .select()
    .from(repositories)
    .where(and(trackedOf(installationId), eq(repositories.syncStatus, "syncing")));
  return { total, tracked, byStatus, syncing };
}

/**
 * Records activity on repositories, one statement for any number of them: only a later moment
 * writes (and locks) a row, and the rows are locked in id order, so two batches touching the same
 * repositories wait for each other instead of deadlocking.
 */
export async function touchRepositories(db: Db, activity: { id: number; at: Date }[]): Promise<void> {
  if (activity.length === 0) return;
  const ids = sql.param(activity.map((entry) => String(entry.id)));
  const ats = sql.param(activity.map((entry) => entry.at.toISOString()));
  await db.execute(sql`
    with touched as (
      select t.id, max(t.at) as at
      from unnest(${ids}::bigint[], ${ats}::text[]::timestamptz[]) as t(id, at)
      group by t.id
    ), later as materialized (
      select r.id, touched.at
      from ${repositories} r join touched on touched.id = r.id
      where r.last_activity_at is null or r.last_activity_at < touched.at
      order by r.id
      for no key update of r
    )
    update ${repositories} r set last_activity_at = later.at from later where r.id = later.id`);
}

export type RepositoryFilter = "all" | "tracked" | "untracked";

/**
 * One page of an installation's repositories, most recently active first, optionally filtered by
 * name (case-insensitive substring) and tracking; with the number of matching repositories.
 */
export async function listRepositoriesPage(
  db: Db,
  installationId: number,
  options: { search: string; filter: RepositoryFilter; offset: number; limit: number },
): Promise<{ rows: Repository[]; total: number }> {
  const conditions = [eq(repositories.installationId, installationId), isNull(repositories.removedAt)];
  if (options.search) {
    const escaped = options.search.replace(/[\\%_]/g, (char) => `\\${char}`);
    conditions.push(sql`${repositories.fullName} ilike ${`%${escaped}%`}`);
  }
  if (options.filter !== "all") conditions.push(eq(repositories.tracked, options.filter === "tracked"));
  const where = and(...conditions);
  const rows = await db
    .select()
    .from(repositories)
    .where(where)
    .orderBy(sql`${repositories.lastActivityAt} desc nulls last`, repositories.fullName)
    .limit(options.limit)
    .offset(options.offset);
  const [counted] = await db.select({ value: count() }).from(repositories).where(where);
  return { rows, total: counted?.value ?? 0 };
}

/** These repositories of the installation (ids of other installations are left out). */
export async function findInstallationRepositories(
  db: Db,
  installationId: number,
  ids: number[],
): Promise<Repository[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(repositories)
    .where(
      and(
        eq(repositories.installationId, installationId),
        inArray(repositories.id, ids),
        isNull(repositories.removedAt),
      ),
    )
    .orderBy(repositories.fullName);
}

export async function setRepositoriesTracked(
  db: Db,
  installationId: number,
  ids: number[],
  tracked: boolean,
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(repositories)
    .set({ tracked, updatedAt: sql`now()` })
    .where(and(eq(repositories.installationId, installationId), inArray(repositories.id, ids)));
}

/** After the repositories' data was deleted: nothing synced, a later track starts from scratch. */
export async function resetRepositorySync(db: Db, installationId: number, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(repositories)
    .set({
      syncStatus: "pending",
      prsDone: 0,
      prsTotal: null,
      backfilledSince: null,
      backfillCursor: null,
      watermark: null,
      syncStartedAt: null,
      syncFinishedAt: null,
      lastSuccessfulSyncAt: null,
      pausedUntil: null,
      pausedAt: null,
      runPrsStart: 0,
      runPausedSeconds: 0,
      lastDriftCount: null,
      lastError: null,
      lastErrorCode: null,
      updatedAt: sql`now()`,
    })
    .where(and(eq(repositories.installationId, installationId), inArray(repositories.id, ids)));
}

/**
 * GitHub no longer shows the repository to the installation (deleted, or access removed): it is
 * marked removed and untracked with the reason, and a sync it was in the middle of is no longer
 * waited for. Its history stays; it comes back if the installation sees it again.
 */
export async function markRepositoryGone(db: Db, id: number, reason: { message: string }): Promise<void> {
  await db
    .update(repositories)
    .set({
      removedAt: sql`coalesce(${repositories.removedAt}, now())`,
      tracked: false,
      syncStatus: sql`case when ${repositories.syncStatus} in ('queued', 'syncing', 'paused_rate_limited') then 'pending' else ${repositories.syncStatus} end`,
      pausedUntil: null,
      pausedAt: null,
      lastError: reason.message.slice(0, MAX_STORED_ERROR_LENGTH),
      lastErrorCode: "not_found",
      updatedAt: sql`now()`,
    })
    .where(eq(repositories.id, id));
}

/** Tracked repositories whose backfill started (or was queued) and has not finished. */
/** A backfill is unfinished while its repository is in one of these states. */
const UNFINISHED_BACKFILL: Repository["syncStatus"][] = ["queued", "syncing", "paused_rate_limited"];

export async function listUnfinishedBackfills(db: Db, installationId: number): Promise<number[]> {
  const rows = await db
    .select({ id: repositories.id })
    .from(repositories)
    .where(and(trackedOf(installationId), inArray(repositories.syncStatus, UNFINISHED_BACKFILL)))
    .orderBy(repositories.id);
  return rows.map((row) => row.id);
}

/**
 * Tracked repositories whose first backfill is queued or running and has not brought in its first
 * window yet (nothing backfilled): no repository of the installation goes deeper while any is left.
 */
export async function listFirstWindowsPending(db: Db, installationId: number): Promise<Repository[]> {
  return db
    .select()
    .from(repositories)
    .where(
      and(
        trackedOf(installationId),
        isNull(repositories.backfilledSince),
        inArray(repositories.syncStatus, UNFINISHED_BACKFILL),
      ),
    )
    .orderBy(repositories.id);
}

/**
 * What the installation's backfills still bring: tracked repositories, those whose first window is
 * not in yet, and those in with it that are still going deeper.
 */
export async function countStillArriving(
  db: Db,
  installationId: number,
): Promise<{ repositories: number; firstWindows: number; deeper: number }> {
  const running = inArray(repositories.syncStatus, UNFINISHED_BACKFILL);
  const [row] = await db
    .select({
      repositories: count(),
      firstWindows: sql<number>`count(*) filter (where ${running} and ${repositories.backfilledSince} is null)::int`,
      deeper: sql<number>`count(*) filter (where ${running} and ${repositories.backfilledSince} is not null)::int`,
    })
    .from(repositories)
    .where(trackedOf(installationId));
  return {
    repositories: row?.repositories ?? 0,
    firstWindows: row?.firstWindows ?? 0,
    deeper: row?.deeper ?? 0,
  };
}

/** Tracked repositories of installed installations, counted by sync status (for the metrics). */
export async function countRepositoriesBySyncStatus(db: Db): Promise<{ status: string; count: number }[]> {
  const installed = db
    .select({ id: installations.id })
    .from(installations)
    .where(isNull(installations.deletedAt));
  return db
    .select({ status: repositories.syncStatus, count: sql<number>`count(*)::int` })
    .from(repositories)
    .where(
      and(
        eq(repositories.tracked, true),
        isNull(repositories.removedAt),
        inArray(repositories.installationId, installed),
      ),
    )
    .groupBy(repositories.syncStatus);
}

/**
 * Asks the next delta sync of the installation to include these repositories (tracked ones, not
 * removed); returns those marked. Kept to the millisecond, so the sync that meets a request can
 * clear exactly that one (clearDeltaRequest).
 */
export async function requestDeltaSync(db: Db, installationId: number, repoIds: number[]): Promise<number[]> {
  if (repoIds.length === 0) return [];
  const rows = await db
    .update(repositories)
    .set({ deltaRequestedAt: sql`date_trunc('milliseconds', now())` })
    .where(and(trackedOf(installationId), inArray(repositories.id, repoIds)))
    .returning({ id: repositories.id });
  return rows.map((row) => row.id);
}

export interface FinishedDelta {
  id: number;
  watermark: Date;
  /** Changes the delta found that webhooks had not delivered. */
  drift: number;
}

/**
 * Delta syncs that read GitHub at `at` and stored everything they found: each repository's new
 * watermark and drift, the repository complete and its last error cleared. One statement for a
 * whole query's worth of repositories.
 */
export async function recordDeltasFinished(db: Db, finished: FinishedDelta[], at: Date): Promise<void> {
  if (finished.length === 0) return;
  // Arrays travel as text, which the driver serializes for any element type.
  const ids = finished.map((delta) => String(delta.id));
  const watermarks = finished.map((delta) => delta.watermark.toISOString());
  const drifts = finished.map((delta) => String(delta.drift));
  // Rows locked in id order first, as touchRepositories does: the two never deadlock.
  await db.execute(sql`
    with v as (
      select * from unnest(
        ${sql.param(ids)}::text[]::bigint[],
        ${sql.param(watermarks)}::text[]::timestamptz[],
        ${sql.param(drifts)}::text[]::int[]
      ) as v(id, watermark, drift)
    ), locked as materialized (
      select r.id from ${repositories} r join v on v.id = r.id order by r.id for no key update of r
    )
    update ${repositories} r
    set watermark = v.watermark, last_drift_count = v.drift,
        last_successful_sync_at = ${at.toISOString()}::timestamptz, sync_status = 'complete',
        paused_until = null, last_error = null, last_error_code = null, updated_at = now()
    from v join locked on locked.id = v.id
    where r.id = v.id`);
}

/** A delta sync met the request made at `requestedAt`: cleared, unless a newer one came since. */
export async function clearDeltaRequest(db: Db, repoId: number, requestedAt: Date): Promise<void> {
  await db
    .update(repositories)
    .set({ deltaRequestedAt: null })
    .where(and(eq(repositories.id, repoId), lte(repositories.deltaRequestedAt, requestedAt)));
}
