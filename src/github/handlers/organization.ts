import type { Context } from "probot";
import { withTransaction } from "../../db/client.js";
import { findInstallation } from "../../db/queries/installations.js";
import { deactivateMembers, upsertMembers } from "../../db/queries/members.js";
import type { HandlerDeps } from "./deps.js";

/** organization.member_added / member_removed: members are keyed by GitHub user id. */
export function createOrganizationMemberHandler(deps: HandlerDeps) {
  return async (context: Context<"organization.member_added" | "organization.member_removed">) => {
    const payload = context.payload;
    const installationId = payload.installation?.id;
    const user = payload.membership?.user;
    if (!installationId || !user) return;
    await withTransaction(deps.database, async (db) => {
      // Member events for an installation we do not know yet wait for its members-sync instead.
      if (!(await findInstallation(db, installationId))) return;
      if (payload.action === "member_added") {
        await upsertMembers(db, installationId, [
          {
            userId: user.id,
            login: user.login,
            name: user.name ?? null,
            email: user.email ?? null,
            type: user.type === "Bot" ? "Bot" : "User",
          },
        ]);
      } else {
        await deactivateMembers(db, installationId, [user.id]);
      }
    });
  };
}
