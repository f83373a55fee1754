import type { Repository, SyncStatus } from "../db/schema/index.js";

export type ProgressFacts = Pick<
  Repository,
  "syncStatus" | "prsDone" | "prsTotal" | "syncStartedAt" | "pausedUntil" | "tracked" | "removedAt"
>;

export interface Progress {
  status: SyncStatus;
  done: number;
  total: number | null;
  percent: number | null;
  /** Seconds left at the rate so far; null when not syncing or not yet measurable. */
  etaSeconds: number | null;
  pausedUntil: Date | null;
}

/** Progress of one repository's sync. Time is a parameter: no clock inside. */
export function computeProgress(repo: ProgressFacts, now: Date): Progress {
  const total = repo.prsTotal && repo.prsTotal > 0 ? Math.max(repo.prsTotal, repo.prsDone) : null;
  const percent =
    repo.syncStatus === "complete"
      ? 100
      : total
        ? Math.min(99, Math.floor((repo.prsDone / total) * 100))
        : null;
  let etaSeconds: number | null = null;
  if (repo.syncStatus === "syncing" && total && repo.prsDone > 0 && repo.syncStartedAt) {
    const elapsed = (now.getTime() - repo.syncStartedAt.getTime()) / 1000;
    etaSeconds = elapsed > 0 ? Math.round((elapsed / repo.prsDone) * (total - repo.prsDone)) : null;
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
