import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { repositories, type Repository } from "../schema/index.js";

export interface RepositoryFacts {
  id: number;
  nodeId?: string | null;
  fullName: string;
  private?: boolean;
  archived?: boolean;
  defaultBranch?: string | null;
}

/**
 * Records repositories the installation can see. New ones start tracked when `track` is true
 * (auto-track); existing ones keep the tracking an admin chose, and come back from removal.
 * Returns the tracked repositories that still need a backfill (never synced, or failed).
 */
export async function upsertRepositories(
  db: Db,
  installationId: number,
  repos: RepositoryFacts[],
  options: { track: boolean },
): Promise<number[]> {
  if (repos.length === 0) return [];
  const rows = await db
    .insert(repositories)
    .values(
      repos.map((repo) => ({
        id: repo.id,
        installationId,
        nodeId: repo.nodeId ?? null,
        fullName: repo.fullName,
        private: repo.private ?? false,
        archived: repo.archived ?? false,
        defaultBranch: repo.defaultBranch ?? null,
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

export async function listTrackedRepositories(db: Db, installationId: number): Promise<Repository[]> {
  return db
    .select()
    .from(repositories)
    .where(
      and(
        eq(repositories.installationId, installationId),
        eq(repositories.tracked, true),
        isNull(repositories.removedAt),
      ),
    )
    .orderBy(repositories.fullName);
}
