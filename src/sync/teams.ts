import { withTransaction } from "../db/client.js";
import { replaceTeams, upsertTeams, type TeamFacts, type TeamMemberFacts } from "../db/queries/teams.js";
import type { GqlTeam, GqlTeamMembers, QueryResult } from "../github/queries.js";
import { cleanOptionalText, cleanText } from "../text.js";
import type { SyncContext } from "./sync-context.js";

export interface TeamsSyncResult {
  teams: number;
  memberships: number;
  removed: number;
  /** False when GitHub's answer did not hold the whole list: nothing was removed. */
  trusted: boolean;
}

/**
 * Every team of the organization with its parent and immediate members: one query lists 100 teams
 * with their first 100 members each (1 point), and only a team with more members costs a query per
 * further 100. Only a complete listing says which teams and memberships are gone; an incomplete one
 * stores what it found and removes nothing. Members of a child team count for its parents when
 * figures are read (src/db/queries/teams.ts teamClosure), so GitHub's immediate lists are kept as
 * they are.
 */
export async function syncTeams(ctx: SyncContext, orgLogin: string): Promise<TeamsSyncResult> {
  const listed = await listTeams(ctx, orgLogin);
  const teams = listed.teams.map(toTeamFacts);
  const memberships: TeamMemberFacts[] = [];
  let complete = listed.complete;
  for (const team of listed.teams) {
    const list = await listTeamMembers(ctx, orgLogin, team);
    complete &&= list.complete;
    memberships.push(...list.members.map((member) => ({ ...member, teamId: team.databaseId })));
  }
  return withTransaction(ctx.database, async (db) => {
    if (!complete) {
      await upsertTeams(db, ctx.installationId, teams);
      return { teams: teams.length, memberships: memberships.length, removed: 0, trusted: false };
    }
    const { removed } = await replaceTeams(db, ctx.installationId, teams, memberships);
    return { teams: teams.length, memberships: memberships.length, removed, trusted: true };
  });
}

type ListedTeam = GqlTeam & { databaseId: number; members: GqlTeamMembers };

async function listTeams(ctx: SyncContext, orgLogin: string) {
  const teams: ListedTeam[] = [];
  let after: string | null = null;
  for (;;) {
    const data: QueryResult<"organization-teams"> = await ctx.client.graphql("organization-teams", {
      login: orgLogin,
      after,
    });
    const connection = data.organization?.teams;
    if (!connection) {
      ctx.log.warn({ org: orgLogin, page: after }, "teams query answered without the organization");
      return { teams, complete: false };
    }
    for (const team of connection.nodes ?? []) {
      if (team?.databaseId) teams.push(team as ListedTeam);
    }
    if (!connection.pageInfo.hasNextPage) return { teams, complete: true };
    // A next page without a cursor cannot be followed: the listing stays incomplete.
    if (!connection.pageInfo.endCursor) return { teams, complete: false };
    after = connection.pageInfo.endCursor;
  }
}

/** A team's immediate members: the first page came with the team, the rest are asked for. */
async function listTeamMembers(ctx: SyncContext, orgLogin: string, team: ListedTeam) {
  const members: Omit<TeamMemberFacts, "teamId">[] = [];
  let page: GqlTeamMembers | null | undefined = team.members;
  for (;;) {
    if (!page) return { members, complete: false };
    for (const member of page.nodes ?? []) {
      if (member?.databaseId) members.push({ userId: member.databaseId, login: cleanText(member.login) });
    }
    if (!page.pageInfo.hasNextPage) return { members, complete: true };
    if (!page.pageInfo.endCursor) return { members, complete: false };
    const data: QueryResult<"team-members"> = await ctx.client.graphql("team-members", {
      login: orgLogin,
      slug: team.slug,
      after: page.pageInfo.endCursor,
    });
    page = data.organization?.team?.members;
  }
}

function toTeamFacts(team: ListedTeam): TeamFacts {
  return {
    id: team.databaseId,
    nodeId: team.id,
    slug: cleanText(team.slug),
    name: cleanText(team.name),
    description: cleanOptionalText(team.description) ?? null,
    parentId: team.parentTeam?.databaseId ?? null,
  };
}
