import { withTransaction } from "../db/client.js";
import { deactivateMembersNotIn, upsertMembers, type MemberFacts } from "../db/queries/members.js";
import type { QueryResult } from "../github/queries.js";
import { cleanOptionalText, cleanText } from "../text.js";
import type { SyncContext } from "./sync-context.js";

export interface MembersSyncResult {
  active: number;
  left: number;
  /**
   * False when GitHub's answer did not hold the organization's member list (no organization and
   * no error, or no members at all): members found are stored, nobody is marked as having left.
   */
  trusted: boolean;
}

/**
 * Every member of the organization, keyed by GitHub user id. Members missing from the complete
 * listing have left: they are marked inactive and keep their history. Only a complete listing
 * says who left; an answer that cannot be trusted deactivates nobody.
 */
export async function syncMembers(ctx: SyncContext, orgLogin: string): Promise<MembersSyncResult> {
  const found: MemberFacts[] = [];
  let after: string | null = null;
  let complete = false;
  for (;;) {
    const data: QueryResult<"organization-members"> = await ctx.client.graphql("organization-members", {
      login: orgLogin,
      after,
    });
    const connection = data.organization?.membersWithRole;
    if (!connection) {
      ctx.log.warn({ org: orgLogin, page: after }, "members query answered without the organization");
      break;
    }
    for (const member of connection.nodes ?? []) {
      if (!member?.databaseId) continue;
      // GitHub returns "" for a member without a public email.
      found.push({
        userId: member.databaseId,
        login: cleanText(member.login),
        name: cleanOptionalText(member.name),
        email: cleanText(member.email) || null,
        type: "User",
      });
    }
    if (!connection.pageInfo.hasNextPage) {
      complete = true;
      break;
    }
    // A next page without a cursor cannot be followed: the listing stays incomplete.
    if (!connection.pageInfo.endCursor) break;
    after = connection.pageInfo.endCursor;
  }
  // An organization always has an owner: an empty listing is a wrong answer, not an empty org.
  const trusted = complete && found.length > 0;
  return withTransaction(ctx.database, async (db) => {
    await upsertMembers(db, ctx.installationId, found);
    const left = trusted
      ? await deactivateMembersNotIn(
          db,
          ctx.installationId,
          found.map((member) => member.userId),
        )
      : 0;
    return { active: found.length, left, trusted };
  });
}
