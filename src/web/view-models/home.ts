import type { Db } from "../../db/client.js";
import { listInstallations } from "../../db/queries/installations.js";
import { countPullRequests, listRepositories } from "../../db/queries/repositories.js";
import type { Repository, SyncStatus } from "../../db/schema/index.js";
import { computeProgress, rollUpProgress, type Progress } from "../../metrics/progress.js";

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

function formatEta(seconds: number | null): string | null {
  if (seconds === null) return null;
  if (seconds < 90) return "about a minute left";
  if (seconds < 90 * 60) return `about ${Math.round(seconds / 60)} minutes left`;
  return `about ${Math.round(seconds / 3600)} hours left`;
}

function statusLabel(progress: Progress): string {
  if (progress.status === "paused_rate_limited" && progress.pausedUntil) {
    return `paused until ${progress.pausedUntil.toISOString().slice(11, 16)} UTC`;
  }
  return statusLabels[progress.status];
}

function progressLabel(progress: Progress): string {
  const counts =
    progress.total === null
      ? `${progress.done} PRs`
      : `${progress.done} / ${progress.total} PRs (${progress.percent}%)`;
  const eta = formatEta(progress.etaSeconds);
  return eta ? `${counts}, ${eta}` : counts;
}

function repoView(repo: Repository, now: Date) {
  const progress = computeProgress(repo, now);
  return {
    fullName: repo.fullName,
    tracked: repo.tracked && !repo.removedAt,
    archived: repo.archived,
    status: repo.syncStatus,
    statusLabel: repo.removedAt ? "access removed" : !repo.tracked ? "not tracked" : statusLabel(progress),
    error: repo.syncStatus === "error" ? `${repo.lastErrorCode ?? "error"}: ${repo.lastError ?? ""}` : null,
    progress: progressLabel(progress),
    lastSync: formatTime(repo.lastSuccessfulSyncAt),
  };
}

function rolledUp(repos: Repository[], now: Date) {
  const progress = rollUpProgress(repos, now);
  return progress
    ? { status: progress.status, label: `${statusLabel(progress)} · ${progressLabel(progress)}` }
    : null;
}

/**
 * Everything the home page shows, prepared so the template only loops and branches. Only the
 * installations in `allowedInstallationIds` (those the signed-in user administers) are listed.
 */
export async function buildHomeViewModel(
  db: Db,
  installUrl: string,
  allowedInstallationIds: readonly number[],
  now: Date = new Date(),
) {
  const allowed = new Set(allowedInstallationIds);
  const installations = allowed.size === 0 ? [] : await listInstallations(db);
  const views = [];
  for (const installation of installations) {
    if (!allowed.has(installation.id)) continue;
    const repos = await listRepositories(db, installation.id);
    views.push({
      account: installation.accountLogin,
      accountType: installation.accountType,
      state: installation.deletedAt ? "uninstalled" : installation.suspendedAt ? "suspended" : null,
      repoCount: repos.length,
      trackedCount: repos.filter((repo) => repo.tracked && !repo.removedAt).length,
      pullRequestCount: await countPullRequests(db, installation.id),
      sync: rolledUp(repos, now),
      repos: repos.map((repo) => repoView(repo, now)),
    });
  }
  return { title: "Installations", installUrl, installations: views };
}
