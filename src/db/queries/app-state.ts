import { eq, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { appState } from "../schema/index.js";

/** A deployment-wide fact by key (shared by every replica), or undefined when never written. */
export async function readAppState<T>(db: Db, key: string): Promise<T | undefined> {
  const [row] = await db.select({ value: appState.value }).from(appState).where(eq(appState.key, key));
  return row?.value as T | undefined;
}

export async function writeAppState(db: Db, key: string, value: unknown): Promise<void> {
  await db
    .insert(appState)
    .values({ key, value })
    .onConflictDoUpdate({ target: appState.key, set: { value, updatedAt: sql`now()` } });
}

/**
 * Adds `entries` to the object stored under `key` in one statement: two workers adding different
 * entries at once both keep theirs (a read and a write would lose one).
 */
export async function mergeAppState(db: Db, key: string, entries: Record<string, unknown>): Promise<void> {
  await db
    .insert(appState)
    .values({ key, value: entries })
    .onConflictDoUpdate({
      target: appState.key,
      set: { value: sql`${appState.value} || excluded.value`, updatedAt: sql`now()` },
    });
}

export async function deleteAppState(db: Db, key: string): Promise<void> {
  await db.delete(appState).where(eq(appState.key, key));
}
