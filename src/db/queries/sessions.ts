import { and, eq, gt, lte, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { sessions, type Session } from "../schema/index.js";

export type NewSession = Omit<Session, "createdAt" | "installationChecks">;

/** Stores a new session, and clears expired ones while at it (sign-ins are rare enough). */
export async function createSession(db: Db, session: NewSession, now: Date): Promise<void> {
  await db.delete(sessions).where(lte(sessions.expiresAt, now));
  await db.insert(sessions).values(session);
}

/** The session with this id, unless it expired. */
export async function findSession(db: Db, id: string, now: Date): Promise<Session | undefined> {
  const [row] = await db
    .select()
    .from(sessions)
    .where(and(eq(sessions.id, id), gt(sessions.expiresAt, now)));
  return row;
}

/** The whole list confirmed with GitHub: it replaces the single checks made before. */
export async function updateSessionAuthorization(
  db: Db,
  id: string,
  installationIds: number[],
  authorizedAt: Date,
): Promise<void> {
  await db
    .update(sessions)
    .set({ installationIds, authorizedAt, installationChecks: {} })
    .where(eq(sessions.id, id));
}

/**
 * One installation confirmed with GitHub: still administered (its check time recorded), or not
 * (taken off the list). In one statement, so requests checking other installations at the same
 * moment keep their answers.
 */
export async function recordInstallationCheck(
  db: Db,
  id: string,
  check: { installationId: number; administered: boolean; at: Date },
): Promise<void> {
  const key = String(check.installationId);
  await db
    .update(sessions)
    .set(
      check.administered
        ? {
            installationChecks: sql`${sessions.installationChecks} || jsonb_build_object(${key}::text, ${check.at.toISOString()}::text)`,
          }
        : {
            installationIds: sql`array_remove(${sessions.installationIds}, ${check.installationId}::bigint)`,
            installationChecks: sql`${sessions.installationChecks} - ${key}::text`,
          },
    )
    .where(eq(sessions.id, id));
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, id));
}
