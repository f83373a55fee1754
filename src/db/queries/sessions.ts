import { and, eq, gt, lte } from "drizzle-orm";
import type { Db } from "../client.js";
import { sessions, type Session } from "../schema/index.js";

export type NewSession = Omit<Session, "createdAt">;

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

export async function updateSessionAuthorization(
  db: Db,
  id: string,
  installationIds: number[],
  authorizedAt: Date,
): Promise<void> {
  await db.update(sessions).set({ installationIds, authorizedAt }).where(eq(sessions.id, id));
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.id, id));
}
