import { withTransaction } from "../../db/client.js";
import { findInstallation } from "../../db/queries/installations.js";
import {
  addTeamMembers,
  findTeam,
  removeFromAllTeams,
  removeTeamMember,
  upsertTeams,
} from "../../db/queries/teams.js";
import { cleanText } from "../../text.js";
import type { MembershipEvent } from "../payloads.js";
import type { HandlerDeps } from "./deps.js";
import { teamFacts } from "./team.js";

/**
 * membership.added / removed: someone joined or left a team (its immediate members; the closure
 * over sub-teams is computed when figures are read). A team not stored yet (its team.created lost)
 * is stored from the payload. Scope "organization": the member left the organization, so every
 * team. Deliveries carry no version: the nightly members sync repairs any two applied out of order.
 */
export async function handleMembership(deps: HandlerDeps, payload: MembershipEvent): Promise<void> {
  const installationId = payload.installation.id;
  const { member, team } = payload;
  // A membership of a deleted account names nobody to add or remove.
  if (!member) return;
  await withTransaction(deps.database, async (db) => {
    if (!(await findInstallation(db, installationId))) return;
    if (payload.action === "removed") {
      if (payload.scope === "organization") await removeFromAllTeams(db, installationId, member.id);
      else await removeTeamMember(db, installationId, team.id, member.id);
      return;
    }
    if (!(await findTeam(db, installationId, team.id))) {
      // A deleted team (only its id and name) is not brought back.
      if (team.deleted || !team.slug) return;
      await upsertTeams(db, installationId, [teamFacts(team, team.slug)]);
    }
    await addTeamMembers(db, installationId, [
      { teamId: team.id, userId: member.id, login: cleanText(member.login) },
    ]);
  });
}
