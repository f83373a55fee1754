import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { PgBoss } from "pg-boss";
import { withTransaction } from "../db/client.js";
import { installations, repositories } from "../db/schema/index.js";
import { InvalidInputError } from "../errors.js";
import { enqueue } from "../jobs/boss.js";

/** One manual sync per repository (or installation) per five minutes: enough for an impatient admin, not a flood. */
export const SYNC_NOW_COOLDOWN_SECONDS = 300;

export class SyncNowTooSoonError extends InvalidInputError {}

const cooledDown = (
  column: typeof repositories.manualSyncRequestedAt | typeof installations.manualSyncRequestedAt,
) => or(isNull(column), lt(column, sql`now() - make_interval(secs => ${SYNC_NOW_COOLDOWN_SECONDS})`));

/**
 * "Sync now" from the settings UI. A repository whose backfill is not complete gets its backfill
 * queued; otherwise a delta sync of that repository, or of every repository of the installation.
 * Throws SyncNowTooSoonError inside the cooldown.
 */
export async function requestSyncNow(
  database: Parameters<typeof withTransaction>[0],
  boss: PgBoss,
  target: { installationId: number; repoId?: number },
): Promise<"backfill" | "delta"> {
  return withTransaction(database, async (db) => {
    if (target.repoId !== undefined) {
      const [repo] = await db
        .update(repositories)
        .set({ manualSyncRequestedAt: sql`now()` })
        .where(
          and(
            eq(repositories.id, target.repoId),
            eq(repositories.installationId, target.installationId),
            eq(repositories.tracked, true),
            cooledDown(repositories.manualSyncRequestedAt),
          ),
        )
        .returning({ id: repositories.id, watermark: repositories.watermark });
      if (!repo)
        throw new SyncNowTooSoonError(
          "This repository was synced moments ago, is not tracked, or does not exist.",
        );
      if (!repo.watermark) {
        await db.update(repositories).set({ syncStatus: "queued" }).where(eq(repositories.id, repo.id));
        await enqueue(
          boss,
          "backfillRepo",
          { installationId: target.installationId, repoId: repo.id },
          { tx: db },
        );
        return "backfill";
      }
      await enqueue(
        boss,
        "deltaSync",
        { installationId: target.installationId, repoIds: [repo.id] },
        { tx: db },
      );
      return "delta";
    }
    const [installation] = await db
      .update(installations)
      .set({ manualSyncRequestedAt: sql`now()` })
      .where(
        and(eq(installations.id, target.installationId), cooledDown(installations.manualSyncRequestedAt)),
      )
      .returning({ id: installations.id });
    if (!installation) throw new SyncNowTooSoonError("This installation was synced moments ago.");
    await enqueue(boss, "deltaSync", { installationId: target.installationId }, { tx: db });
    return "delta";
  });
}
