import { withTransaction } from "../../db/client.js";
import { markRepositoriesRemoved, updateRepository } from "../../db/queries/repositories.js";
import type { RepositoryEvent } from "../payloads.js";
import type { HandlerDeps } from "./deps.js";
import { repositoryFacts, resolveKnownRepository } from "./known-repository.js";

/**
 * repository.renamed / transferred / archived / unarchived / deleted. Identity is the repository
 * id, so a rename or transfer only updates the name; nothing is re-synced.
 */
export async function handleRepository(deps: HandlerDeps, payload: RepositoryEvent): Promise<void> {
  await withTransaction(deps.database, async (db) => {
    const known = await resolveKnownRepository(deps.boss, db, payload);
    if (!known) return;
    const facts = repositoryFacts(payload.repository);
    if (payload.action === "deleted") {
      await markRepositoriesRemoved(db, known.installationId, [facts.id]);
      return;
    }
    await updateRepository(db, facts.id, {
      fullName: facts.fullName,
      archived:
        payload.action === "archived" ? true : payload.action === "unarchived" ? false : facts.archived,
      private: facts.private,
      ...(facts.defaultBranch === null ? {} : { defaultBranch: facts.defaultBranch }),
    });
  });
}
