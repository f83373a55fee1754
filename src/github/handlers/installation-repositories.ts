import type { Context } from "probot";
import { withTransaction } from "../../db/client.js";
import { getInstallationSettings, upsertInstallation } from "../../db/queries/installations.js";
import { markRepositoriesRemoved, upsertRepositories } from "../../db/queries/repositories.js";
import { enqueueBackfills } from "../../jobs/enqueue-backfills.js";
import type { HandlerDeps } from "./deps.js";
import { repositoryFacts } from "./known-repository.js";

/** installation_repositories.added / removed: access to repositories granted or revoked. */
export function createInstallationRepositoriesHandler(deps: HandlerDeps) {
  return async (context: Context<"installation_repositories">) => {
    const { installation, repositories_added, repositories_removed, repository_selection } = context.payload;
    const account = installation.account as { id: number; login?: string; type?: string } | null;
    await withTransaction(deps.database, async (db) => {
      await upsertInstallation(db, {
        id: installation.id,
        accountId: account?.id ?? 0,
        accountLogin: account?.login ?? String(installation.id),
        accountType: account?.type === "User" ? "User" : "Organization",
        repositorySelection: repository_selection,
      });
      const settings = await getInstallationSettings(db, installation.id);
      const tracked = await upsertRepositories(db, installation.id, repositories_added.map(repositoryFacts), {
        track: settings.autoTrackNewRepos,
      });
      await enqueueBackfills(deps.boss, db, installation.id, tracked);
      await markRepositoriesRemoved(
        db,
        installation.id,
        repositories_removed.flatMap((repo) => (repo.id === undefined ? [] : [repo.id])),
      );
    });
  };
}
