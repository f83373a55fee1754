import { and, asc, eq, inArray, notInArray, sql, type SQL } from "drizzle-orm";
import type { Db } from "../client.js";
import { members, teamMembers, teams, type Team } from "../schema/index.js";

/**
 * The organization's teams and who is in them. GitHub lists each team's immediate members; a
 * member of a child team is a member of its parent too (as GitHub counts it), and that closure is
 * defined once, here (`teamClosure`), and read by every figure cut by team.
 */

export interface TeamFacts {
  id: number;
  nodeId?: string | null;
  slug: string;
  name: string;
  description?: string | null;
  /** Undefined: keep the stored parent (an event that does not say). */
  parentId?: number | null;
}

export interface TeamMemberFacts {
  teamId: number;
  userId: number;
  login: string;
}

/** Inserts teams or updates them from newer facts; a parent left undefined is kept. */
export async function upsertTeams(db: Db, installationId: number, rows: TeamFacts[]): Promise<void> {
  if (rows.length === 0) return;
  // One statement per shape: rows that name their parent, and rows that leave it as stored.
  const withParent = rows.filter((row) => row.parentId !== undefined);
  const withoutParent = rows.filter((row) => row.parentId === undefined);
  for (const [batch, setsParent] of [
    [withParent, true],
    [withoutParent, false],
  ] as const) {
    if (batch.length === 0) continue;
    await db
      .insert(teams)
      .values(
        batch.map((row) => ({
          installationId,
          id: row.id,
          nodeId: row.nodeId ?? null,
          slug: row.slug,
          name: row.name,
          description: row.description ?? null,
          parentId: row.parentId ?? null,
        })),
      )
      .onConflictDoUpdate({
        target: [teams.installationId, teams.id],
        set: {
          nodeId: sql`coalesce(excluded."node_id", ${teams.nodeId})`,
          slug: sql`excluded."slug"`,
          name: sql`excluded."name"`,
          description: sql`excluded."description"`,
          ...(setsParent ? { parentId: sql`excluded."parent_id"` } : {}),
          updatedAt: sql`now()`,
        },
      });
  }
}

/**
 * After a complete listing: the listed teams' immediate members are exactly these, and teams not
 * listed are gone (with their members).
 */
export async function replaceTeams(
  db: Db,
  installationId: number,
  listed: TeamFacts[],
  memberships: TeamMemberFacts[],
): Promise<{ removed: number }> {
  await upsertTeams(db, installationId, listed);
  const ids = listed.map((team) => team.id);
  const gone = await db
    .delete(teams)
    .where(
      and(eq(teams.installationId, installationId), ...(ids.length > 0 ? [notInArray(teams.id, ids)] : [])),
    )
    .returning({ id: teams.id });
  await db.execute(sql`
    delete from ${teamMembers} m
    where m.installation_id = ${installationId}
      and (m.team_id, m.user_id) not in (
        select * from unnest(${sql.param(memberships.map((row) => String(row.teamId)))}::bigint[],
                             ${sql.param(memberships.map((row) => String(row.userId)))}::bigint[])
      )`);
  await addTeamMembers(db, installationId, memberships);
  return { removed: gone.length };
}

export async function addTeamMembers(db: Db, installationId: number, rows: TeamMemberFacts[]): Promise<void> {
  // Postgres takes at most 65,535 bind parameters per statement: 1,000 rows of 4 stay clear.
  for (let at = 0; at < rows.length; at += 1000) {
    await db
      .insert(teamMembers)
      .values(rows.slice(at, at + 1000).map((row) => ({ installationId, ...row })))
      .onConflictDoUpdate({
        target: [teamMembers.installationId, teamMembers.teamId, teamMembers.userId],
        set: { login: sql`excluded."login"`, updatedAt: sql`now()` },
      });
  }
}

export async function removeTeamMember(
  db: Db,
  installationId: number,
  teamId: number,
  userId: number,
): Promise<void> {
  await db
    .delete(teamMembers)
    .where(
      and(
        eq(teamMembers.installationId, installationId),
        eq(teamMembers.teamId, teamId),
        eq(teamMembers.userId, userId),
      ),
    );
}

/** Someone who left the organization is in none of its teams. */
export async function removeFromAllTeams(db: Db, installationId: number, userId: number): Promise<void> {
  await db
    .delete(teamMembers)
    .where(and(eq(teamMembers.installationId, installationId), eq(teamMembers.userId, userId)));
}

/**
 * Deletes a team and the teams under it, with their memberships: on GitHub, deleting a parent team
 * deletes its child teams. Returns the ids deleted.
 */
export async function deleteTeamTree(db: Db, installationId: number, teamId: number): Promise<number[]> {
  const rows = await db.execute<{ id: string }>(sql`
    with recursive tree(id) as (
      select ${teamId}::bigint
      union
      select t.id from ${teams} t join tree on t.parent_id = tree.id
      where t.installation_id = ${installationId}
    )
    select id::text from tree`);
  const ids = [...rows].map((row) => Number(row.id));
  await db
    .delete(teamMembers)
    .where(and(eq(teamMembers.installationId, installationId), inArray(teamMembers.teamId, ids)));
  const deleted = await db
    .delete(teams)
    .where(and(eq(teams.installationId, installationId), inArray(teams.id, ids)))
    .returning({ id: teams.id });
  return deleted.map((row) => row.id);
}

/**
 * Who is in each team now, as a subquery of (team_id, user_id): its immediate members and those of
 * every team under it, at any depth. A parent id that names no stored team (deleted, or not synced
 * yet) ends the climb, and a cycle (events applied out of order) cannot loop: `union` drops the
 * pairs already found.
 */
export function teamClosure(installationId: number): SQL {
  return sql`(
    with recursive lineage(team_id, ancestor_id) as (
      select t.id, t.id from ${teams} t where t.installation_id = ${installationId}::bigint
      union
      select l.team_id, parent.id
      from lineage l
      join ${teams} t on t.installation_id = ${installationId}::bigint and t.id = l.ancestor_id
      join ${teams} parent on parent.installation_id = ${installationId}::bigint and parent.id = t.parent_id
    )
    select distinct l.ancestor_id as team_id, m.user_id
    from lineage l
    join ${teamMembers} m on m.installation_id = ${installationId}::bigint and m.team_id = l.team_id
  )`;
}

/** Whether a user id (an SQL expression) is in the team now, sub-teams included. */
export function inTeam(installationId: number, teamId: number, userId: SQL): SQL {
  return sql`${userId} in (select c.user_id from ${teamClosure(installationId)} c where c.team_id = ${teamId}::bigint)`;
}

/**
 * Each user's teams as one text (slugs in alphabetical order, separated by a space: a slug never
 * holds one), as a subquery of (user_id, teams).
 */
export function teamsOfUsers(installationId: number): SQL {
  return sql`(
    select c.user_id, string_agg(t.slug, ' ' order by t.slug) as teams
    from ${teamClosure(installationId)} c
    join ${teams} t on t.installation_id = ${installationId}::bigint and t.id = c.team_id
    group by c.user_id
  )`;
}

export interface TeamListing {
  id: number;
  slug: string;
  name: string;
  description: string | null;
  parentId: number | null;
  /** How many levels under a top team (0 for one at the top). */
  depth: number;
  /** Members, those of its sub-teams included. */
  members: number;
  /** Immediate members only. */
  directMembers: number;
  subTeams: number;
}

/**
 * Every team of the installation, each parent followed by its children (by name at each level). A
 * team whose parent is not stored is listed at the top; teams in a cycle (events applied out of
 * order, until the nightly sync) have no top to hang from and wait for it.
 */
export async function listTeams(db: Db, installationId: number): Promise<TeamListing[]> {
  const rows = await db.execute<{
    id: string;
    slug: string;
    name: string;
    description: string | null;
    parent_id: string | null;
    depth: number;
    members: number;
    direct_members: number;
    sub_teams: number;
  }>(sql`
    with recursive tree(id, depth, path) as (
      select t.id, 0, array[lower(t.name) || chr(1) || t.id::text]
      from ${teams} t
      where t.installation_id = ${installationId}
        and not exists (select 1 from ${teams} p where p.installation_id = t.installation_id and p.id = t.parent_id)
      union all
      select t.id, tree.depth + 1, tree.path || (lower(t.name) || chr(1) || t.id::text)
      from tree join ${teams} t on t.installation_id = ${installationId} and t.parent_id = tree.id
    ),
    everyone as (
      select team_id, count(*)::int as members from ${teamClosure(installationId)} c group by team_id
    ),
    direct as (
      select team_id, count(*)::int as members from ${teamMembers}
      where installation_id = ${installationId} group by team_id
    ),
    children as (
      select parent_id, count(*)::int as teams from ${teams}
      where installation_id = ${installationId} and parent_id is not null group by parent_id
    )
    select t.id::text, t.slug, t.name, t.description, t.parent_id::text, tree.depth,
           coalesce(everyone.members, 0) as members, coalesce(direct.members, 0) as direct_members,
           coalesce(children.teams, 0) as sub_teams
    from tree
    join ${teams} t on t.installation_id = ${installationId} and t.id = tree.id
    left join everyone on everyone.team_id = t.id
    left join direct on direct.team_id = t.id
    left join children on children.parent_id = t.id
    order by tree.path`);
  return [...rows].map((row) => ({
    id: Number(row.id),
    slug: row.slug,
    name: row.name,
    description: row.description,
    parentId: row.parent_id === null ? null : Number(row.parent_id),
    depth: row.depth,
    members: row.members,
    directMembers: row.direct_members,
    subTeams: row.sub_teams,
  }));
}

export async function findTeam(db: Db, installationId: number, teamId: number): Promise<Team | undefined> {
  const [row] = await db
    .select()
    .from(teams)
    .where(and(eq(teams.installationId, installationId), eq(teams.id, teamId)));
  return row;
}

export interface TeamPerson {
  userId: number;
  login: string;
  name: string | null;
  /** An immediate member of this team (else a member through a sub-team). */
  direct: boolean;
}

/** A team's members now, its sub-teams' included, by login. */
export async function listTeamPeople(db: Db, installationId: number, teamId: number): Promise<TeamPerson[]> {
  const rows = await db.execute<{ user_id: string; login: string; name: string | null; direct: boolean }>(sql`
    select c.user_id::text, coalesce(mem.login, any_login.login) as login, mem.name,
           exists (select 1 from ${teamMembers} d
                   where d.installation_id = ${installationId} and d.team_id = ${teamId} and d.user_id = c.user_id) as direct
    from ${teamClosure(installationId)} c
    left join ${members} mem on mem.installation_id = ${installationId} and mem.user_id = c.user_id
    cross join lateral (
      select m.login from ${teamMembers} m
      where m.installation_id = ${installationId} and m.user_id = c.user_id
      order by m.updated_at desc limit 1
    ) any_login
    where c.team_id = ${teamId}
    order by lower(coalesce(mem.login, any_login.login)), c.user_id`);
  return [...rows].map((row) => ({
    userId: Number(row.user_id),
    login: row.login,
    name: row.name,
    direct: row.direct,
  }));
}

/** The teams a user is in now (sub-team memberships count for the parents), by name. */
export async function listTeamsOfUser(db: Db, installationId: number, userId: number): Promise<Team[]> {
  return db
    .select()
    .from(teams)
    .where(
      and(
        eq(teams.installationId, installationId),
        inArray(
          teams.id,
          sql`(select c.team_id from ${teamClosure(installationId)} c where c.user_id = ${userId}::bigint)`,
        ),
      ),
    )
    .orderBy(asc(sql`lower(${teams.name})`), asc(teams.id));
}

/**
 * Changes whenever a team or a membership does (the counts catch deletions, the latest update
 * the rest): figures cut by team computed under one version hold until it changes.
 */
export async function teamsVersion(db: Db, installationId: number): Promise<string> {
  const [row] = await db.execute<{ version: string }>(sql`
    select concat_ws('/',
      (select count(*) from ${teams} where installation_id = ${installationId}),
      (select max(updated_at)::text from ${teams} where installation_id = ${installationId}),
      (select count(*) from ${teamMembers} where installation_id = ${installationId}),
      (select max(updated_at)::text from ${teamMembers} where installation_id = ${installationId})
    ) as version`);
  return row?.version ?? "";
}

/**
 * Someone of the installation by GitHub user id: a member, or someone in one of its teams (whose
 * member row the next members sync brings). Undefined for anyone else.
 */
export async function findPerson(
  db: Db,
  installationId: number,
  userId: number,
): Promise<{ userId: number; login: string; name: string | null } | undefined> {
  const [row] = await db.execute<{ login: string; name: string | null }>(sql`
    select login, name from ${members} where installation_id = ${installationId} and user_id = ${userId}
    union all
    select login, null from ${teamMembers} where installation_id = ${installationId} and user_id = ${userId}
    limit 1`);
  return row ? { userId, login: row.login, name: row.name } : undefined;
}
