import { withTransaction } from "../../db/client.js";
import {
  getInstallationSettings,
  updateInstallation,
  upsertInstallation,
} from "../../db/queries/installations.js";
import { upsertRepositories } from "../../db/queries/repositories.js";
import { enqueue } from "../../queue/boss.js";
import { unscheduleNightlySync } from "../../queue/schedule.js";
import { enqueueBackfills, resumeUnfinishedBackfills } from "../../sync/backfill.js";
import type { InstallationEvent } from "../payloads.js";
import type { HandlerDeps } from "./deps.js";
import { installationAccount, repositoryFacts } from "./known-repository.js";

/**
 * installation.*: created, new_permissions_accepted and unsuspend store the installation and the
 * repositories the payload lists, track them by the auto-track rule, queue their backfills, and
 * queue a full repository listing and member sync (payloads may not list every repository);
 * unsuspend also resumes the backfills the suspension cut short. deleted keeps the history and
 * stops syncing; suspend pauses every job of the installation.
 */
export async function handleInstallation(deps: HandlerDeps, payload: InstallationEvent): Promise<void> {
  const { installation, action } = payload;
  const account = {
    ...installationAccount(installation.id, installation.account),
    repositorySelection: installation.repository_selection ?? null,
  };
  if (action === "deleted") {
    await withTransaction(deps.database, async (db) => {
      await upsertInstallation(db, account);
      await updateInstallation(db, installation.id, { deletedAt: new Date() });
    });
    await unscheduleNightlySync(deps.boss, installation.id);
    return;
  }
  if (action === "suspend") {
    const suspendedAt = installation.suspended_at ? new Date(installation.suspended_at) : new Date();
    await withTransaction(deps.database, (db) => upsertInstallation(db, { ...account, suspendedAt }));
    return;
  }
  await withTransaction(deps.database, async (db) => {
    const suspendedAt =
      action === "unsuspend"
        ? null
        : installation.suspended_at
          ? new Date(installation.suspended_at)
          : undefined;
    await upsertInstallation(db, { ...account, suspendedAt });
    const settings = await getInstallationSettings(db, installation.id);
    const tracked = await upsertRepositories(
      db,
      installation.id,
      (payload.repositories ?? []).map(repositoryFacts),
      { track: settings.autoTrackNewRepos },
    );
    await enqueueBackfills(deps.boss, db, installation.id, tracked);
    // Backfills cut short by the suspension (their jobs ended quietly) go on. Only here: queued
    // beside a backfill still running, a job would find its repository locked and wait its turn.
    if (action === "unsuspend") await resumeUnfinishedBackfills(deps.boss, db, installation.id);
    await enqueue(deps.boss, "syncRepositories", { installationId: installation.id }, { tx: db });
    if (account.accountType === "Organization") {
      await enqueue(deps.boss, "membersSync", { installationId: installation.id }, { tx: db });
    }
  });
}
