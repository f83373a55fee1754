import { and, eq, inArray, notInArray, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { commits as commitsTable, members } from "../schema/index.js";

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

export interface CommitIdentity {
  authorId: number | null;
  authorLogin: string | null;
  authorEmail: string | null;
  authorName: string | null;
  commits: number;
  /** The member this identity belongs to, if any. */
  memberUserId: number | null;
  matchedBy: "id" | "email" | null;
}

/**
 * Commit authors of an installation, matched to members: first by the GitHub account GitHub
 * linked the commit to, then by email (case-insensitive). Unmatched identities (personal emails,
 * bots, former contractors) come back with memberUserId null, for the settings UI to show.
 */
export async function listCommitIdentities(db: Db, installationId: number): Promise<CommitIdentity[]> {
  const rows = await db.execute<{
    author_id: string | null;
    author_login: string | null;
    author_email: string | null;
    author_name: string | null;
    commits: number;
    member_user_id: string | null;
    matched_by: "id" | "email" | null;
  }>(sql`
    with identities as (
      select author_id, max(author_login) as author_login, lower(author_email) as author_email,
             max(author_name) as author_name, count(*)::int as commits
      from ${commitsTable}
      where installation_id = ${installationId}
      group by author_id, lower(author_email)
    )
    select i.author_id, i.author_login, i.author_email, i.author_name, i.commits,
           coalesce(by_id.user_id, by_email.user_id) as member_user_id,
           case when by_id.user_id is not null then 'id' when by_email.user_id is not null then 'email' end as matched_by
    from identities i
    left join ${members} by_id on by_id.installation_id = ${installationId} and by_id.user_id = i.author_id
    left join lateral (
      select m.user_id from ${members} m
      where m.installation_id = ${installationId} and i.author_id is null
        and m.email is not null and lower(m.email) = i.author_email
      order by m.active desc, m.user_id limit 1
    ) by_email on true
    order by i.commits desc, i.author_email`);
  return [...rows].map((row) => ({
    authorId: row.author_id === null ? null : Number(row.author_id),
    authorLogin: row.author_login,
    authorEmail: row.author_email,
    authorName: row.author_name,
    commits: row.commits,
    memberUserId: row.member_user_id === null ? null : Number(row.member_user_id),
    matchedBy: row.matched_by,
  }));
}
