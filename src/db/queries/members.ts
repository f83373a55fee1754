import { and, asc, desc, eq, inArray, notInArray, sql, type SQL } from "drizzle-orm";
import type { Db } from "../client.js";
import { commitAuthorCounts, identityMatches, members, type Member } from "../schema/index.js";

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

/** How a commit identity came to belong to a member. */
export type MatchSource = "manual" | "id" | "email";

export interface CommitIdentity {
  /** The key manual matches are stored under: "id:<GitHub user id>" or "email:<lower-cased email>". */
  identity: string;
  authorId: number | null;
  authorLogin: string | null;
  /** Lower-cased; for an "id:" identity, the email its commits use most. */
  authorEmail: string | null;
  authorName: string | null;
  commits: number;
  /** The member this identity belongs to, if any. */
  memberUserId: number | null;
  matchedBy: MatchSource | null;
  /** The member GitHub's link or the email points to, whatever an admin decided. */
  automaticMemberUserId: number | null;
  /** An admin matched this identity by hand (to a member, or to nobody). */
  manual: boolean;
}

/** A commit identity key, parsed: what the commits table is searched by. */
export type IdentityKey = { kind: "id"; authorId: number } | { kind: "email"; email: string };

/** The key of an identity ("id:42", "email:ada@example.com"), or null when it is not one. */
export function parseIdentityKey(identity: string): IdentityKey | null {
  const id = /^id:([1-9][0-9]{0,17})$/.exec(identity);
  if (id) {
    const authorId = Number(id[1]);
    return Number.isSafeInteger(authorId) ? { kind: "id", authorId } : null;
  }
  if (identity.startsWith("email:") && identity.length > "email:".length) {
    const email = identity.slice("email:".length);
    return email.includes("\u0000") ? null : { kind: "email", email };
  }
  return null;
}

/**
 * The commit identities of an installation, resolved to members. A commit GitHub linked to an
 * account is that account's ("id:"); the others are their email's ("email:"). An identity belongs
 * to the member an admin matched it to (a match to nobody leaves it unmatched), else to the
 * member of the linked account, else to the member with that email (case-insensitive). Matches
 * live in identity_matches, which no sync writes: they survive every sync.
 *
 * Read from commit_author_counts (what triggers on commits keep: commits per author key), not
 * from the commits: a few hundred rows instead of every commit. An identity's login, email and
 * name are the ones most of its commits carry (ties: the first in sort order, as mode() chooses).
 * `only` narrows it to one identity.
 */
function resolvedIdentities(installationId: number, only?: IdentityKey): SQL {
  const narrow =
    only === undefined
      ? sql``
      : only.kind === "id"
        ? sql`and a.author_id = ${only.authorId}`
        : sql`and a.author_id is null and a.author_email = ${only.email}`;
  const mostCommon = (column: "author_login" | "author_email" | "author_name") => sql`
      select distinct on (identity) identity, ${sql.raw(column)} as value
      from keys where ${sql.raw(column)} is not null
      group by identity, ${sql.raw(column)}
      order by identity, sum(commits) desc, ${sql.raw(column)}`;
  return sql`
    with keys as (
      select case when a.author_id is not null then 'id:' || a.author_id else 'email:' || a.author_email end as identity,
             a.author_id, a.author_login, a.author_email, a.author_name, sum(a.commits)::int as commits
      from ${commitAuthorCounts} a
      where a.installation_id = ${installationId} ${narrow}
      group by a.author_id, a.author_login, a.author_email, a.author_name
      having sum(a.commits) > 0
    ),
    identities as (
      select k.identity, max(k.author_id) as author_id, login.value as author_login,
             email.value as author_email, name.value as author_name, sum(k.commits)::int as commits
      from keys k
      left join (${mostCommon("author_login")}) login on login.identity = k.identity
      left join (${mostCommon("author_email")}) email on email.identity = k.identity
      left join (${mostCommon("author_name")}) name on name.identity = k.identity
      group by k.identity, login.value, email.value, name.value
    ),
    matched as (
      select i.*,
             manual.identity is not null as manual,
             manual.member_user_id as manual_user_id,
             coalesce(by_id.user_id, by_email.user_id) as automatic_user_id,
             case when by_id.user_id is not null then 'id' when by_email.user_id is not null then 'email' end as automatic_by
      from identities i
      left join ${identityMatches} manual on manual.installation_id = ${installationId} and manual.identity = i.identity
      left join ${members} by_id on by_id.installation_id = ${installationId} and by_id.user_id = i.author_id
      left join lateral (
        select m.user_id from ${members} m
        where m.installation_id = ${installationId} and i.author_id is null
          and m.email is not null and lower(m.email) = i.author_email
        order by m.active desc, m.user_id limit 1
      ) by_email on true
    )
    select identity, author_id, author_login, author_email, author_name, commits, manual, automatic_user_id,
           case when manual then manual_user_id else automatic_user_id end as member_user_id,
           case when manual then case when manual_user_id is not null then 'manual' end else automatic_by end as matched_by
    from matched`;
}

type IdentityRow = {
  identity: string;
  author_id: string | null;
  author_login: string | null;
  author_email: string | null;
  author_name: string | null;
  commits: number;
  manual: boolean;
  automatic_user_id: string | null;
  member_user_id: string | null;
  matched_by: MatchSource | null;
};

const toNumber = (value: string | null) => (value === null ? null : Number(value));

function toIdentity(row: IdentityRow): CommitIdentity {
  return {
    identity: row.identity,
    authorId: toNumber(row.author_id),
    authorLogin: row.author_login,
    authorEmail: row.author_email,
    authorName: row.author_name,
    commits: row.commits,
    memberUserId: toNumber(row.member_user_id),
    matchedBy: row.matched_by,
    automaticMemberUserId: toNumber(row.automatic_user_id),
    manual: row.manual,
  };
}

/**
 * Commit authors of an installation, matched to members (see resolvedIdentities), most commits
 * first. Unmatched identities (personal emails, bots, former contractors) come back with
 * memberUserId null, for the settings UI to show.
 */
export async function listCommitIdentities(db: Db, installationId: number): Promise<CommitIdentity[]> {
  const rows = await db.execute<IdentityRow>(
    sql`${resolvedIdentities(installationId)} order by commits desc, identity`,
  );
  return [...rows].map(toIdentity);
}

/** One commit identity of an installation, or undefined when no commit of it is stored. */
export async function findCommitIdentity(
  db: Db,
  installationId: number,
  key: IdentityKey,
): Promise<CommitIdentity | undefined> {
  const rows = await db.execute<IdentityRow>(resolvedIdentities(installationId, key));
  const [row] = [...rows];
  return row ? toIdentity(row) : undefined;
}

/**
 * Folds an installation's commit_author_counts into one row per author key (the triggers append a
 * row per key for every statement that writes commits). One statement: rows appended meanwhile
 * by uncommitted writers are not in its snapshot and stay, so every count stays exact.
 */
export async function compactCommitAuthorCounts(db: Db, installationId: number): Promise<void> {
  await db.execute(sql`
    with folded as (
      delete from ${commitAuthorCounts} where installation_id = ${installationId}
      returning installation_id, author_id, author_login, author_email, author_name, commits
    )
    insert into ${commitAuthorCounts} (installation_id, author_id, author_login, author_email, author_name, commits)
    select installation_id, author_id, author_login, author_email, author_name, sum(commits)
    from folded group by 1, 2, 3, 4, 5 having sum(commits) <> 0`);
}

/** Every member of an installation, the active ones first, by login. */
export async function listMembers(db: Db, installationId: number): Promise<Member[]> {
  return db
    .select()
    .from(members)
    .where(eq(members.installationId, installationId))
    .orderBy(desc(members.active), asc(sql`lower(${members.login})`), asc(members.userId));
}

export async function findMember(
  db: Db,
  installationId: number,
  userId: number,
): Promise<Member | undefined> {
  const [row] = await db
    .select()
    .from(members)
    .where(and(eq(members.installationId, installationId), eq(members.userId, userId)));
  return row;
}

export interface IdentityMatchRow {
  identity: string;
  memberUserId: number | null;
  matchedByUserId: number;
  matchedAt: Date;
}

/** The matches admins made, newest first. */
export async function listIdentityMatches(db: Db, installationId: number): Promise<IdentityMatchRow[]> {
  return db
    .select({
      identity: identityMatches.identity,
      memberUserId: identityMatches.memberUserId,
      matchedByUserId: identityMatches.matchedByUserId,
      matchedAt: identityMatches.matchedAt,
    })
    .from(identityMatches)
    .where(eq(identityMatches.installationId, installationId))
    .orderBy(desc(identityMatches.matchedAt), asc(identityMatches.identity));
}

/**
 * Matches an identity to a member by hand, or to nobody (memberUserId null: "not this member").
 * A later decision replaces an earlier one.
 */
export async function saveIdentityMatch(
  db: Db,
  match: {
    installationId: number;
    identity: string;
    memberUserId: number | null;
    matchedByUserId: number;
    now: Date;
  },
): Promise<void> {
  await db
    .insert(identityMatches)
    .values({
      installationId: match.installationId,
      identity: match.identity,
      memberUserId: match.memberUserId,
      matchedByUserId: match.matchedByUserId,
      matchedAt: match.now,
    })
    .onConflictDoUpdate({
      target: [identityMatches.installationId, identityMatches.identity],
      set: { memberUserId: match.memberUserId, matchedByUserId: match.matchedByUserId, matchedAt: match.now },
    });
}

/** Removes a manual match: the identity is matched automatically again. True if there was one. */
export async function deleteIdentityMatch(
  db: Db,
  installationId: number,
  identity: string,
): Promise<boolean> {
  const rows = await db
    .delete(identityMatches)
    .where(and(eq(identityMatches.installationId, installationId), eq(identityMatches.identity, identity)))
    .returning({ identity: identityMatches.identity });
  return rows.length > 0;
}
