import type { Repository, SyncStatus } from "../db/schema/index.js";

export type ProgressFacts = Pick<
  Repository,
  "syncStatus" | "prsDone" | "prsTotal" | "syncStartedAt" | "pausedUntil" | "tracked" | "removedAt"
> &
  Partial<Pick<Repository, "runPrsStart" | "runPausedSeconds" | "pausedAt">>;

export interface Progress {
  status: SyncStatus;
  done: number;
  total: number | null;
  percent: number | null;
  /** Seconds left at the rate so far; null when not syncing or not yet measurable. */
  etaSeconds: number | null;
  pausedUntil: Date | null;
}

/**
 * Progress of one repository's sync. The ETA is the rate of the current run (the pull requests it
 * stored, over the time it ran without being paused by GitHub's rate limit) applied to what is
 * left: pull requests of earlier runs (a depth deepened later) and paused time do not count.
 * Time is a parameter: no clock inside.
 */
export function computeProgress(repo: ProgressFacts, now: Date): Progress {
  const total = repo.prsTotal && repo.prsTotal > 0 ? Math.max(repo.prsTotal, repo.prsDone) : null;
  const percent =
    repo.syncStatus === "complete"
      ? 100
      : total
        ? Math.min(99, Math.floor((repo.prsDone / total) * 100))
        : null;
  let etaSeconds: number | null = null;
  const runDone = repo.prsDone - (repo.runPrsStart ?? 0);
  if (repo.syncStatus === "syncing" && total && runDone > 0 && repo.syncStartedAt) {
    const ongoingPause = repo.pausedAt ? now.getTime() - repo.pausedAt.getTime() : 0;
    const active =
      (now.getTime() - repo.syncStartedAt.getTime() - ongoingPause) / 1000 - (repo.runPausedSeconds ?? 0);
    etaSeconds = active > 0 ? Math.round((active / runDone) * (total - repo.prsDone)) : null;
  }
  return {
    status: repo.syncStatus,
    done: repo.prsDone,
    total,
    percent,
    etaSeconds,
    pausedUntil: repo.syncStatus === "paused_rate_limited" ? repo.pausedUntil : null,
  };
}

// Worst first: the installation shows the status that needs attention.
const STATUS_ORDER: SyncStatus[] = [
  "error",
  "paused_rate_limited",
  "syncing",
  "queued",
  "pending",
  "complete",
];

/** The status an installation shows: the worst its tracked repositories have ("complete" if none). */
export function worstSyncStatus(counts: Partial<Record<SyncStatus, number>>): SyncStatus {
  return STATUS_ORDER.find((status) => (counts[status] ?? 0) > 0) ?? "complete";
}
