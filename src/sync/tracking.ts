import type { PgBoss } from "pg-boss";
import { withTransaction, type Database } from "../db/client.js";
import { getInstallationSettings } from "../db/queries/installations.js";
import { deleteRepositoryData, weeksOfRepositories } from "../db/queries/pull-requests.js";
import {
  findInstallationRepositories,
  resetRepositorySync,
  setRepositoriesTracked,
  updateRepository,
} from "../db/queries/repositories.js";
import type { Repository } from "../db/schema/index.js";
import { enqueue } from "../queue/boss.js";
import { syncDepthToDays, type SyncDepth } from "../settings.js";
import { depthCutoff, enqueueBackfills, isBackfillCovered } from "./backfill.js";
import { queueWeeks } from "./weekly.js";

/**
 * What admins choose on the repositories page: which repositories are tracked, and how far back.
 * Every change happens in one transaction with the jobs it queues.
 */

/** Starts tracking; repositories without a complete backfill get one queued. */
export async function trackRepositories(
  database: Pick<Database, "db">,
  boss: PgBoss,
  installationId: number,
  repoIds: number[],
): Promise<Repository[]> {
  return withTransaction(database, async (db) => {
    const repos = (await findInstallationRepositories(db, installationId, repoIds)).filter((r) => !r.tracked);
    const ids = repos.map((repo) => repo.id);
    await setRepositoriesTracked(db, installationId, ids, true);
    await enqueueBackfills(
      boss,
      db,
      installationId,
      repos.filter((repo) => !repo.watermark || repo.syncStatus === "error").map((repo) => repo.id),
    );
    // Pull requests kept from an earlier tracking count in the weekly figures again.
    const { timezone } = await getInstallationSettings(db, installationId);
    await queueWeeks(boss, db, installationId, await weeksOfRepositories(db, installationId, ids, timezone));
    return repos;
  });
}

/**
 * Stops tracking: jobs of these repositories end at their next step, and the weekly figures they
 * counted in are refreshed without them. With `deleteData`, their pull requests, reviews and commits
 * are deleted too, and tracking them again starts a fresh backfill.
 */
export async function untrackRepositories(
  database: Pick<Database, "db">,
  boss: PgBoss,
  installationId: number,
  repoIds: number[],
  options: { deleteData: boolean },
): Promise<Repository[]> {
  return withTransaction(database, async (db) => {
    const repos = await findInstallationRepositories(db, installationId, repoIds);
    const ids = repos.map((repo) => repo.id);
    const { timezone } = await getInstallationSettings(db, installationId);
    const weeks = await weeksOfRepositories(db, installationId, ids, timezone);
    await setRepositoriesTracked(db, installationId, ids, false);
    if (options.deleteData) {
      await deleteRepositoryData(db, installationId, ids);
      await resetRepositorySync(db, installationId, ids);
    }
    await queueWeeks(boss, db, installationId, weeks);
    return repos;
  });
}

/** How far a depth reaches, for comparing two (full history reaches furthest). */
export function depthDays(depth: SyncDepth): number {
  return syncDepthToDays(depth) ?? Number.POSITIVE_INFINITY;
}

/**
 * Sets a repository's sync depth. A depth beyond what is stored queues a backfill that fetches only
 * the missing, older window; a shorter one changes nothing stored.
 */
export async function setSyncDepth(
  database: Pick<Database, "db">,
  boss: PgBoss,
  installationId: number,
  repoId: number,
  depth: SyncDepth,
  now: Date,
): Promise<{ repository: Repository; backfill: boolean } | undefined> {
  return withTransaction(database, async (db) => {
    const [repo] = await findInstallationRepositories(db, installationId, [repoId]);
    if (!repo) return undefined;
    await updateRepository(db, repo.id, { syncDepth: depth });
    const covered = isBackfillCovered(repo.backfilledSince, depthCutoff(depth, now));
    const running = repo.syncStatus === "queued" || repo.syncStatus === "syncing";
    const backfill = repo.tracked && !covered && !running;
    if (backfill) {
      await updateRepository(db, repo.id, { syncStatus: "queued" });
      await enqueue(boss, "backfillRepo", { installationId, repoId: repo.id }, { tx: db });
    }
    return { repository: { ...repo, syncDepth: depth }, backfill };
  });
}
