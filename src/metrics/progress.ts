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

/** The installation's progress: its tracked repositories summed, worst status first, longest ETA. */
export function rollUpProgress(repos: ProgressFacts[], now: Date): Progress | null {
  const tracked = repos.filter((repo) => repo.tracked && !repo.removedAt);
  if (tracked.length === 0) return null;
  const parts = tracked.map((repo) => computeProgress(repo, now));
  const status =
    STATUS_ORDER.find((candidate) => parts.some((part) => part.status === candidate)) ?? "complete";
  const done = parts.reduce((sum, part) => sum + part.done, 0);
  const known = parts.every((part) => part.total !== null || part.status === "complete");
  const total = known ? parts.reduce((sum, part) => sum + (part.total ?? part.done), 0) : null;
  const etas = parts.map((part) => part.etaSeconds).filter((eta): eta is number => eta !== null);
  const pauses = parts.map((part) => part.pausedUntil).filter((at): at is Date => at !== null);
  return {
    status,
    done,
    total,
    percent: status === "complete" ? 100 : total ? Math.min(99, Math.floor((done / total) * 100)) : null,
    etaSeconds: etas.length > 0 ? Math.max(...etas) : null,
    pausedUntil: pauses.length > 0 ? new Date(Math.max(...pauses.map((at) => at.getTime()))) : null,
  };
}
