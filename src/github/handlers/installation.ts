import type { Context } from "probot";
import { withTransaction } from "../../db/client.js";
import {
  getInstallationSettings,
  updateInstallation,
  upsertInstallation,
} from "../../db/queries/installations.js";
import { upsertRepositories } from "../../db/queries/repositories.js";
import { enqueue } from "../../jobs/boss.js";
import { enqueueBackfills } from "../../jobs/enqueue-backfills.js";
import { unscheduleNightlySync } from "../../jobs/schedule.js";
import type { HandlerDeps } from "./deps.js";
import { repositoryFacts } from "./known-repository.js";

type InstallationContext = Context<"installation">;

function accountOf(installation: InstallationContext["payload"]["installation"]) {
  const account = installation.account as { id: number; login?: string; slug?: string; type?: string } | null;
  return {
    id: installation.id,
    accountId: account?.id ?? 0,
    accountLogin: account?.login ?? account?.slug ?? String(installation.id),
    accountType: (account?.type === "User" ? "User" : "Organization") as "User" | "Organization",
    repositorySelection: installation.repository_selection,
  };
}

/**
 * installation.created / new_permissions_accepted / unsuspend: store the installation and the
 * repositories the payload lists, track them by the auto-track rule, queue their backfills, and
 * queue a full repository listing and member sync (payloads may not list every repository).
 */
export function createInstallationUpsertHandler(deps: HandlerDeps) {
  return async (context: InstallationContext) => {
    const { installation, repositories = [] } = context.payload as InstallationContext["payload"] & {
      repositories?: { id: number; node_id?: string; full_name: string; private?: boolean }[];
    };
    await withTransaction(deps.database, async (db) => {
      const suspendedAt =
        context.payload.action === "unsuspend"
          ? null
          : installation.suspended_at
            ? new Date(installation.suspended_at)
            : undefined;
      await upsertInstallation(db, { ...accountOf(installation), suspendedAt });
      const settings = await getInstallationSettings(db, installation.id);
      const tracked = await upsertRepositories(db, installation.id, repositories.map(repositoryFacts), {
        track: settings.autoTrackNewRepos,
      });
      await enqueueBackfills(deps.boss, db, installation.id, tracked);
      await enqueue(deps.boss, "syncRepositories", { installationId: installation.id }, { tx: db });
      if (accountOf(installation).accountType === "Organization") {
        await enqueue(deps.boss, "membersSync", { installationId: installation.id }, { tx: db });
      }
    });
  };
}

/** installation.deleted: keep the history, stop syncing. */
export function createInstallationDeletedHandler(deps: HandlerDeps) {
  return async (context: InstallationContext) => {
    const { installation } = context.payload;
    await withTransaction(deps.database, async (db) => {
      await upsertInstallation(db, accountOf(installation));
      await updateInstallation(db, installation.id, { deletedAt: new Date() });
    });
    await unscheduleNightlySync(deps.boss, installation.id);
  };
}

/** installation.suspend: jobs for a suspended installation skip until it is unsuspended. */
export function createInstallationSuspendHandler(deps: HandlerDeps) {
  return async (context: InstallationContext) => {
    const { installation } = context.payload;
    await withTransaction(deps.database, async (db) => {
      await upsertInstallation(db, {
        ...accountOf(installation),
        suspendedAt: installation.suspended_at ? new Date(installation.suspended_at) : new Date(),
      });
    });
  };
}
