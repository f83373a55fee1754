import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import type { Db } from "../client.js";
import { apiTokens, type ApiToken } from "../schema/index.js";

/** Tokens of the read API (src/web/routes/api.ts): stored as their SHA-256, one installation's each. */

export interface NewApiToken {
  installationId: number;
  name: string;
  tokenHash: string;
  prefix: string;
  createdById: number;
  createdByLogin: string;
}

/** Stores a new token (its hash). */
export async function createApiToken(db: Db, token: NewApiToken): Promise<ApiToken> {
  const [row] = await db.insert(apiTokens).values(token).returning();
  return row!;
}

/** The installation's tokens, newest first, revoked ones included (the page shows when). */
export async function listApiTokens(db: Db, installationId: number): Promise<ApiToken[]> {
  return db
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.installationId, installationId))
    .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
}

/** Revokes one of the installation's tokens; false when it has no such token still valid. */
export async function revokeApiToken(
  db: Db,
  installationId: number,
  id: number,
  now: Date,
): Promise<boolean> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(
      and(eq(apiTokens.installationId, installationId), eq(apiTokens.id, id), isNull(apiTokens.revokedAt)),
    )
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

/**
 * How stale last_used_at may be: a client polling every few seconds writes the row once a minute,
 * not on every request, and the page still tells a token in use from one forgotten.
 */
const LAST_USED_RESOLUTION_MS = 60_000;

/** The valid (not revoked) token with this hash, its use recorded; undefined for none. */
export async function useApiToken(
  db: Db,
  tokenHash: string,
  now: Date,
): Promise<Pick<ApiToken, "id" | "installationId"> | undefined> {
  const [token] = await db
    .select({ id: apiTokens.id, installationId: apiTokens.installationId, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)));
  if (!token) return undefined;
  const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
  if (!token.lastUsedAt || token.lastUsedAt < stale) {
    await db
      .update(apiTokens)
      .set({ lastUsedAt: now })
      .where(
        and(eq(apiTokens.id, token.id), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, stale))),
      );
  }
  return { id: token.id, installationId: token.installationId };
}
