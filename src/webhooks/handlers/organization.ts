import { withTransaction } from "../../db/client.js";
import { findInstallation } from "../../db/queries/installations.js";
import { deactivateMembers, upsertMembers } from "../../db/queries/members.js";
import { removeFromAllTeams } from "../../db/queries/teams.js";
import { cleanOptionalText, cleanText } from "../../text.js";
import type { OrganizationEvent } from "../payloads.js";
import type { HandlerDeps } from "./deps.js";

/**
 * organization.member_added / member_removed: members are keyed by GitHub user id. Someone who
 * leaves the organization leaves its teams with it.
 */
export async function handleOrganization(deps: HandlerDeps, payload: OrganizationEvent): Promise<void> {
  const installationId = payload.installation.id;
  const user = payload.membership.user;
  await withTransaction(deps.database, async (db) => {
    // Member events for an installation we do not know yet wait for its members-sync instead.
    if (!(await findInstallation(db, installationId))) return;
    if (payload.action === "member_added") {
      await upsertMembers(db, installationId, [
        {
          userId: user.id,
          login: cleanText(user.login),
          name: cleanOptionalText(user.name) ?? null,
          email: cleanOptionalText(user.email) ?? null,
          type: user.type === "Bot" ? "Bot" : "User",
        },
      ]);
    } else {
      await deactivateMembers(db, installationId, [user.id]);
      await removeFromAllTeams(db, installationId, user.id);
    }
  });
}
