import { count, eq } from "drizzle-orm";
import type { Db } from "../../db/client.js";
import { listInstallations } from "../../db/queries/installations.js";
import { listRepositories } from "../../db/queries/repositories.js";
import { pullRequests, type Repository, type SyncStatus } from "../../db/schema/index.js";

const statusLabels: Record<SyncStatus, string> = {
  pending: "pending",
  queued: "queued",
  syncing: "syncing",
  paused_rate_limited: "paused (rate limit)",
  complete: "complete",
  error: "error",
};

function formatTime(value: Date | null): string {
  return value ? value.toISOString().replace("T", " ").slice(0, 16) + " UTC" : "never";
}

function repoView(repo: Repository) {
  const percent =
    repo.prsTotal && repo.prsTotal > 0
      ? Math.min(100, Math.floor((repo.prsDone / repo.prsTotal) * 100))
      : null;
  let statusLabel = statusLabels[repo.syncStatus];
  if (repo.syncStatus === "paused_rate_limited" && repo.pausedUntil) {
    statusLabel = `paused until ${repo.pausedUntil.toISOString().slice(11, 16)} UTC`;
  }
  return {
    fullName: repo.fullName,
    tracked: repo.tracked && !repo.removedAt,
    archived: repo.archived,
    status: repo.syncStatus,
    statusLabel: repo.removedAt ? "access removed" : statusLabel,
    error: repo.syncStatus === "error" ? `${repo.lastErrorCode ?? "error"}: ${repo.lastError ?? ""}` : null,
    progress:
      percent === null ? `${repo.prsDone} PRs` : `${repo.prsDone} / ${repo.prsTotal} PRs (${percent}%)`,
    lastSync: formatTime(repo.lastSuccessfulSyncAt),
  };
}

/**
 * Everything the home page shows, prepared so the template only loops and branches. Only the
 * installations in `allowedInstallationIds` (those the signed-in user administers) are listed.
 */
export async function buildHomeViewModel(
  db: Db,
  installUrl: string,
  allowedInstallationIds: readonly number[],
) {
  const allowed = new Set(allowedInstallationIds);
  const installations = allowed.size === 0 ? [] : await listInstallations(db);
  const views = [];
  for (const installation of installations) {
    if (!allowed.has(installation.id)) continue;
    const repos = await listRepositories(db, installation.id);
    const [prCount] = await db
      .select({ value: count() })
      .from(pullRequests)
      .where(eq(pullRequests.installationId, installation.id));
    views.push({
      account: installation.accountLogin,
      accountType: installation.accountType,
      state: installation.deletedAt ? "uninstalled" : installation.suspendedAt ? "suspended" : null,
      repoCount: repos.length,
      trackedCount: repos.filter((repo) => repo.tracked && !repo.removedAt).length,
      pullRequestCount: prCount?.value ?? 0,
      repos: repos.map(repoView),
    });
  }
  return { title: "Installations", installUrl, installations: views };
}
