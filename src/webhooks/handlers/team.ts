import { withTransaction } from "../../db/client.js";
import { findInstallation } from "../../db/queries/installations.js";
import { deleteTeamTree, upsertTeams, type TeamFacts } from "../../db/queries/teams.js";
import { cleanOptionalText, cleanText } from "../../text.js";
import type { PayloadTeam, TeamEvent } from "../payloads.js";
import type { HandlerDeps } from "./deps.js";

/**
 * team.created / edited / deleted. An edit may rename the team or move it under another parent:
 * the payload's `parent` is the team's parent now. Deleting a team deletes the teams under it, as
 * on GitHub. Figures cut by team read the teams when they are computed, so nothing else is due.
 */
export async function handleTeam(deps: HandlerDeps, payload: TeamEvent): Promise<void> {
  const installationId = payload.installation.id;
  await withTransaction(deps.database, async (db) => {
    // Team events for an installation we do not know yet wait for its members-sync instead.
    if (!(await findInstallation(db, installationId))) return;
    if (payload.action === "deleted") {
      await deleteTeamTree(db, installationId, payload.team.id);
      return;
    }
    await upsertTeams(db, installationId, [teamFacts(payload.team, payload.team.slug)]);
  });
}

/** A payload's team as stored; a parent the payload leaves out is kept as it is. */
export function teamFacts(team: PayloadTeam, slug: string): TeamFacts {
  return {
    id: team.id,
    nodeId: team.node_id ?? null,
    slug: cleanText(slug),
    name: cleanText(team.name),
    description: cleanOptionalText(team.description) ?? null,
    ...(team.parent === undefined ? {} : { parentId: team.parent?.id ?? null }),
  };
}
