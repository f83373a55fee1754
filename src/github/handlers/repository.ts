import type { Context } from "probot";
import { withTransaction } from "../../db/client.js";
import { markRepositoriesRemoved, updateRepository } from "../../db/queries/repositories.js";
import type { HandlerDeps } from "./deps.js";
import { resolveKnownRepository, type RepositoryPayload } from "./known-repository.js";

/**
 * repository.renamed / transferred / archived / unarchived / deleted. Identity is the repository
 * id, so a rename or transfer only updates the name; nothing is re-synced.
 */
export function createRepositoryHandler(deps: HandlerDeps) {
  return async (context: Context<"repository">) => {
    const payload = context.payload;
    await withTransaction(deps.database, async (db) => {
      const known = await resolveKnownRepository(db, payload as unknown as RepositoryPayload);
      if (!known) return;
      const repo = payload.repository;
      if (payload.action === "deleted") {
        await markRepositoriesRemoved(db, known.installationId, [repo.id]);
        return;
      }
      await updateRepository(db, repo.id, {
        fullName: repo.full_name,
        archived:
          payload.action === "archived" ? true : payload.action === "unarchived" ? false : repo.archived,
        private: repo.private,
        defaultBranch: repo.default_branch,
      });
    });
  };
}
