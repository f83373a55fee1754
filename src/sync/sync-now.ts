import type { PgBoss } from "pg-boss";
import { withTransaction, type Database } from "../db/client.js";
import { claimInstallationSyncNow } from "../db/queries/installations.js";
import { claimRepositorySyncNow, updateRepository } from "../db/queries/repositories.js";
import { InvalidInputError } from "../errors.js";
import { enqueue } from "../queue/boss.js";

/** One manual sync per repository (or installation) per five minutes: enough for an impatient admin, not a flood. */
export const SYNC_NOW_COOLDOWN_SECONDS = 300;

export class SyncNowTooSoonError extends InvalidInputError {}

/**
 * "Sync now" from the settings UI. A repository whose backfill is not complete gets its backfill
 * queued; otherwise a delta sync of that repository, or of every repository of the installation.
 * Throws SyncNowTooSoonError inside the cooldown.
 */
export async function requestSyncNow(
  database: Pick<Database, "db">,
  boss: PgBoss,
  target: { installationId: number; repoId?: number },
): Promise<"backfill" | "delta"> {
  const { installationId, repoId } = target;
  return withTransaction(database, async (db) => {
    if (repoId !== undefined) {
      const repo = await claimRepositorySyncNow(db, installationId, repoId, SYNC_NOW_COOLDOWN_SECONDS);
      if (!repo) {
        throw new SyncNowTooSoonError(
          "This repository was synced moments ago, is not tracked, or does not exist.",
        );
      }
      if (!repo.watermark) {
        await updateRepository(db, repo.id, { syncStatus: "queued" });
        await enqueue(boss, "backfillRepo", { installationId, repoId: repo.id }, { tx: db });
        return "backfill";
      }
      await enqueue(boss, "deltaSync", { installationId, repoIds: [repo.id] }, { tx: db });
      return "delta";
    }
    if (!(await claimInstallationSyncNow(db, installationId, SYNC_NOW_COOLDOWN_SECONDS))) {
      throw new SyncNowTooSoonError("This installation was synced moments ago.");
    }
    await enqueue(boss, "deltaSync", { installationId }, { tx: db });
    return "delta";
  });
}
