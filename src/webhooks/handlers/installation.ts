import { withTransaction } from "../../db/client.js";
import { upsertInstallation } from "../../db/queries/installations.js";
import { enqueue } from "../../queue/boss.js";
import { startInstallation } from "../../sync/installations.js";
import type { InstallationEvent } from "../payloads.js";
import type { HandlerDeps } from "./deps.js";
import { installationAccount, repositoryFacts } from "./known-repository.js";

/**
 * installation.*: created, new_permissions_accepted and unsuspend start the installation
 * (src/sync/installations.ts: it, the repositories the payload lists, their backfills, a full
 * repository listing and a member sync); unsuspend also resumes the backfills the suspension cut
 * short. suspend pauses every job of the installation. deleted is only a claim: GitHub signs the
 * body, not the moment, so a replayed one would uninstall a live installation. It queues a
 * confirmation that asks GitHub, which marks the installation deleted (history kept, sync stopped)
 * only if GitHub answers 404.
 */
export async function handleInstallation(deps: HandlerDeps, payload: InstallationEvent): Promise<void> {
  const { installation, action } = payload;
  if (action === "deleted") {
    await enqueue(deps.boss, "confirmInstallation", { installationId: installation.id });
    return;
  }
  const account = {
    ...installationAccount(installation.id, installation.account),
    repositorySelection: installation.repository_selection ?? null,
  };
  if (action === "suspend") {
    const suspendedAt = installation.suspended_at ? new Date(installation.suspended_at) : new Date();
    await withTransaction(deps.database, (db) => upsertInstallation(db, { ...account, suspendedAt }));
    return;
  }
  const suspendedAt =
    action === "unsuspend"
      ? null
      : installation.suspended_at
        ? new Date(installation.suspended_at)
        : undefined;
  await withTransaction(deps.database, (db) =>
    startInstallation(
      deps.boss,
      db,
      { ...account, suspendedAt },
      (payload.repositories ?? []).map(repositoryFacts),
      {
        resumeBackfills: action === "unsuspend",
      },
    ),
  );
}
