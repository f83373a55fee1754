import { and, eq, inArray, notInArray, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { members } from "../schema/index.js";

export interface MemberFacts {
  userId: number;
  login: string;
  name?: string | null;
  email?: string | null;
  type?: "User" | "Bot";
}

export async function upsertMembers(db: Db, installationId: number, rows: MemberFacts[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insert(members)
    .values(rows.map((row) => ({ installationId, ...row, active: true, leftAt: null })))
    .onConflictDoUpdate({
      target: [members.installationId, members.userId],
      set: {
        login: sql`excluded."login"`,
        name: sql`coalesce(excluded."name", ${members.name})`,
        email: sql`coalesce(excluded."email", ${members.email})`,
        type: sql`excluded."type"`,
        active: true,
        leftAt: null,
        updatedAt: sql`now()`,
      },
    });
}

/** Members who leave keep their rows (their history still needs a name), marked inactive. */
export async function deactivateMembers(db: Db, installationId: number, userIds: number[]): Promise<void> {
  if (userIds.length === 0) return;
  await db
    .update(members)
    .set({ active: false, leftAt: sql`coalesce(${members.leftAt}, now())`, updatedAt: sql`now()` })
    .where(and(eq(members.installationId, installationId), inArray(members.userId, userIds)));
}

/** After a full member listing: everyone not in it has left. */
export async function deactivateMembersNotIn(
  db: Db,
  installationId: number,
  userIds: number[],
): Promise<number> {
  const conditions = [eq(members.installationId, installationId), eq(members.active, true)];
  if (userIds.length > 0) conditions.push(notInArray(members.userId, userIds));
  const rows = await db
    .update(members)
    .set({ active: false, leftAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(...conditions))
    .returning({ userId: members.userId });
  return rows.length;
}
