import type { PgBoss } from "pg-boss";
import type { Db } from "../db/client.js";
import { updateRepository } from "../db/queries/repositories.js";
import { enqueue } from "./boss.js";

/** Queues a backfill for each newly tracked repository and shows it as queued. */
export async function enqueueBackfills(
  boss: PgBoss,
  db: Db,
  installationId: number,
  repoIds: number[],
): Promise<void> {
  for (const repoId of repoIds) {
    await updateRepository(db, repoId, { syncStatus: "queued" });
    await enqueue(boss, "backfillRepo", { installationId, repoId }, { tx: db });
  }
}
