import { withTransaction } from "../db/client.js";
import { deactivateMembersNotIn, upsertMembers, type MemberFacts } from "../db/queries/members.js";
import type { QueryResult } from "../github/queries.js";
import { cleanOptionalText, cleanText } from "../text.js";
import type { SyncContext } from "./sync-context.js";

/**
 * Every member of the organization, keyed by GitHub user id. Members missing from the complete
 * listing have left: they are marked inactive and keep their history.
 */
export async function syncMembers(
  ctx: SyncContext,
  orgLogin: string,
): Promise<{ active: number; left: number }> {
  const found: MemberFacts[] = [];
  let after: string | null = null;
  for (;;) {
    const data: QueryResult<"organization-members"> = await ctx.client.graphql("organization-members", {
      login: orgLogin,
      after,
    });
    const connection = data.organization?.membersWithRole;
    if (!connection) break;
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
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
  }
  return withTransaction(ctx.database, async (db) => {
    await upsertMembers(db, ctx.installationId, found);
    const left = await deactivateMembersNotIn(
      db,
      ctx.installationId,
      found.map((member) => member.userId),
    );
    return { active: found.length, left };
  });
}
