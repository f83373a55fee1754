import { withTransaction } from "../db/client.js";
import { listRepositories, markRepositoriesRemoved, upsertRepositories } from "../db/queries/repositories.js";
import { cleanOptionalText, cleanText } from "../text.js";
import { enqueueBackfills, resumeUnfinishedBackfills } from "./backfill.js";
import type { SyncContext } from "./sync-context.js";

/**
 * Reconciles the repositories the installation can see with the stored ones (installation payloads
 * may not list them all, and events can be missed): new ones are tracked by the auto-track rule and
 * backfilled, vanished ones are marked removed.
 */
export async function syncRepositories(
  ctx: SyncContext,
): Promise<{ visible: number; queued: number; resumed: number; removed: number }> {
  const visible = await ctx.client.paginate("GET /installation/repositories");
  return withTransaction(ctx.database, async (db) => {
    const queued = await upsertRepositories(
      db,
      ctx.installationId,
      visible.map((repo) => ({
        id: repo.id,
        nodeId: repo.node_id,
        fullName: cleanText(repo.full_name),
        private: repo.private,
        archived: repo.archived ?? false,
        defaultBranch: cleanOptionalText(repo.default_branch) ?? null,
      })),
      { track: ctx.settings.autoTrackNewRepos },
    );
    // After an unsuspend (which queues this sync), backfills cut short by the suspension go on.
    const resumed = await resumeUnfinishedBackfills(ctx.boss, db, ctx.installationId);
    await enqueueBackfills(ctx.boss, db, ctx.installationId, queued);
    const visibleIds = new Set(visible.map((repo) => repo.id));
    const removed = (await listRepositories(db, ctx.installationId))
      .filter((repo) => !repo.removedAt && !visibleIds.has(repo.id))
      .map((repo) => repo.id);
    await markRepositoriesRemoved(db, ctx.installationId, removed);
    return { visible: visible.length, queued: queued.length, resumed, removed: removed.length };
  });
}
