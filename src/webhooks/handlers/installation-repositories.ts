import { withTransaction } from "../../db/client.js";
import { getInstallationSettings, upsertInstallation } from "../../db/queries/installations.js";
import { markRepositoriesRemoved, upsertRepositories } from "../../db/queries/repositories.js";
import { enqueueBackfills } from "../../sync/backfill.js";
import type { InstallationRepositoriesEvent } from "../payloads.js";
import type { HandlerDeps } from "./deps.js";
import { installationAccount, repositoryFacts } from "./known-repository.js";

/** installation_repositories.added / removed: access to repositories granted or revoked. */
export async function handleInstallationRepositories(
  deps: HandlerDeps,
  payload: InstallationRepositoriesEvent,
): Promise<void> {
  const { installation } = payload;
  await withTransaction(deps.database, async (db) => {
    await upsertInstallation(db, {
      ...installationAccount(installation.id, installation.account),
      repositorySelection: payload.repository_selection,
    });
    const settings = await getInstallationSettings(db, installation.id);
    const tracked = await upsertRepositories(
      db,
      installation.id,
      payload.repositories_added.map(repositoryFacts),
      { track: settings.autoTrackNewRepos },
    );
    await enqueueBackfills(deps.boss, db, installation.id, tracked);
    await markRepositoriesRemoved(
      db,
      installation.id,
      payload.repositories_removed.map((repo) => repo.id),
    );
  });
}
