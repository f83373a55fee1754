import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import type { Database } from "../db/client.js";
import { findInstallation, updateInstallation } from "../db/queries/installations.js";
import { markRepositoryGone } from "../db/queries/repositories.js";
import type { Repository } from "../db/schema/index.js";
import { AuthError, NotFoundError, ObjectNotFoundError, PermissionError } from "../errors.js";
import type { GitHubAppClientFactory } from "../github/app-client.js";
import { unscheduleNightlySync } from "../queue/schedule.js";
import type { SyncContext } from "./sync-context.js";

/**
 * Facts, not faults: GitHub answers 401, 403 or 404 once an installation is uninstalled or
 * suspended, or a repository deleted or taken out of the installation. A job that meets one asks
 * GitHub, as the App, which it is, records it, and ends as completed; only what GitHub cannot
 * explain stays a failure.
 */

export type AccessLoss =
  "installation_gone" | "installation_suspended" | "repository_removed" | "pull_request_gone";

export interface AccessDeps {
  database: Database;
  boss: PgBoss;
  app: GitHubAppClientFactory;
  log: Logger;
  now: () => Date;
}

/** The refusals an installation or repository out of reach produces (a rate limit is not one). */
function isAccessError(error: unknown): boolean {
  return error instanceof NotFoundError || error instanceof AuthError || error instanceof PermissionError;
}

/**
 * Asks GitHub whether the installation is still installed and not suspended, and records what it
 * says: an uninstall (deleted_at, nightly sync unscheduled), a suspension (suspended_at), or a
 * renamed account. Returns the loss, or undefined while the installation is fine.
 */
export async function confirmInstallationAccess(
  deps: AccessDeps,
  installationId: number,
): Promise<"installation_gone" | "installation_suspended" | undefined> {
  const client = await deps.app(deps.log);
  const access = await client.getInstallationAccess(installationId);
  const db = deps.database.db;
  const stored = await findInstallation(db, installationId);
  if (access.state === "gone") {
    if (stored && !stored.deletedAt) await updateInstallation(db, installationId, { deletedAt: deps.now() });
    await unscheduleNightlySync(deps.boss, installationId);
    deps.log.info({ installationId }, "installation uninstalled on github; marked deleted");
    return "installation_gone";
  }
  if (access.state === "suspended") {
    if (stored && !stored.suspendedAt) {
      await updateInstallation(db, installationId, { suspendedAt: access.suspendedAt });
    }
    deps.log.info({ installationId }, "installation suspended on github; sync waits for unsuspend");
    return "installation_suspended";
  }
  if (stored && access.accountLogin && stored.accountLogin !== access.accountLogin) {
    // A renamed organization answers NOT_FOUND under its old login until we learn the new one.
    await updateInstallation(db, installationId, { accountLogin: access.accountLogin });
  }
  return undefined;
}

/** An access error in installation-wide work (repository list, members): uninstalled or suspended? */
export async function explainInstallationAccessError(
  deps: AccessDeps,
  installationId: number,
  error: unknown,
): Promise<AccessLoss | undefined> {
  return isAccessError(error) ? confirmInstallationAccess(deps, installationId) : undefined;
}

/**
 * An access error during a repository's sync: the installation is gone or suspended, the
 * repository is gone (recorded as removed, with the reason), or a pull request is gone while its
 * repository is still there. Undefined when GitHub cannot explain the error: a real fault.
 */
export async function explainRepositoryAccessError(
  deps: AccessDeps,
  ctx: Pick<SyncContext, "client" | "installationId">,
  repo: Pick<Repository, "id" | "nodeId" | "fullName">,
  error: unknown,
  scope: "repository" | "pull_request",
): Promise<AccessLoss | undefined> {
  if (!isAccessError(error)) return undefined;
  // A GraphQL NOT_FOUND came with an accepted token: only the object is in question.
  if (!(error instanceof ObjectNotFoundError)) {
    const lost = await confirmInstallationAccess(deps, ctx.installationId);
    if (lost) return lost;
  }
  if (!(error instanceof NotFoundError)) return undefined;
  if (!(await isRepositoryVisible(ctx, repo))) {
    await markRepositoryGone(deps.database.db, repo.id, {
      message: `${repo.fullName} is no longer visible to the installation (deleted, or access removed)`,
    });
    deps.log.info({ repoId: repo.id, repo: repo.fullName }, "repository gone on github; marked removed");
    return "repository_removed";
  }
  return scope === "pull_request" ? "pull_request_gone" : undefined;
}

/** One cheap query (a single pull request, 1 point): does GitHub still show this repository? */
async function isRepositoryVisible(
  ctx: Pick<SyncContext, "client">,
  repo: Pick<Repository, "nodeId">,
): Promise<boolean> {
  // Without a node id there is nothing to ask; call it visible so the error stays a fault.
  if (!repo.nodeId) return true;
  try {
    const result = await ctx.client.graphql("repository-pull-requests", {
      repoId: repo.nodeId,
      first: 1,
      after: null,
      orderBy: "CREATED_AT",
    });
    return Boolean(result.node && "pullRequests" in result.node);
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}
