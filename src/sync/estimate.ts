import type { Repository } from "../db/schema/index.js";
import type { GitHubClient } from "../github/client.js";
import type { InstallationSettings, SyncDepth } from "../settings.js";
import { BEGINNING_OF_TIME, depthCutoff, isBackfillCovered } from "./backfill.js";

/**
 * What a backfill will cost before it starts or deepens: the pull requests in the window (one cheap
 * query per repository), the API points they take, and the time at the installation's budget now.
 */

/**
 * Points per pull request: a 100-PR page with its first 100 reviews and commits costs 3 points in
 * GitHub's formula, plus the rare PR whose long lists need more (measured: 0.0313, bench/RESULTS.md).
 */
const POINTS_PER_PR = 0.032;
/**
 * Pull requests a minute for one repository: measured 2,900/min against a 300 ms API in
 * bench:backfill; GitHub.com answers large pages more slowly, so the estimate is cautious.
 */
const PRS_PER_MINUTE = 1500;

export interface RepositoryEstimate {
  repoId: number;
  fullName: string;
  /** Pull requests the backfill fetches (those already stored are not fetched again). */
  prs: number;
}

export interface BackfillEstimate {
  repositories: RepositoryEstimate[];
  prs: number;
  points: number;
  /** Seconds of fetching, plus waits for the budget's resets when the points exceed it. */
  seconds: number;
  budget: { remaining: number; limit: number; resetAt: Date } | null;
  /** Whether the points fit what is left of this hour's budget above the reserve. */
  fitsBudget: boolean;
}

function searchDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export async function estimateBackfills(
  client: GitHubClient,
  repos: Pick<Repository, "id" | "fullName" | "nodeId" | "syncDepth" | "backfilledSince">[],
  options: { depth?: SyncDepth; settings: InstallationSettings; now: Date; reservePercent: number },
  concurrency: number,
  parallel: number,
): Promise<BackfillEstimate> {
  const estimates: RepositoryEstimate[] = [];
  for (const repo of repos) {
    const depth = options.depth ?? repo.syncDepth ?? options.settings.defaultSyncDepth;
    const cutoff = depthCutoff(depth, options.now);
    if (!repo.nodeId || isBackfillCovered(repo.backfilledSince, cutoff)) {
      estimates.push({ repoId: repo.id, fullName: repo.fullName, prs: 0 });
      continue;
    }
    // Only the window not stored yet: from the cutoff up to where an earlier backfill reached.
    const until =
      repo.backfilledSince && repo.backfilledSince > BEGINNING_OF_TIME ? repo.backfilledSince : null;
    const created = cutoff
      ? until
        ? `created:${searchDate(cutoff)}..${searchDate(until)}`
        : `created:>=${searchDate(cutoff)}`
      : until
        ? `created:<=${searchDate(until)}`
        : "";
    const data = await client.graphql("pull-request-count", {
      repoId: repo.nodeId,
      search: `repo:${repo.fullName} is:pr ${created}`.trim(),
    });
    const total = data.node && "pullRequests" in data.node ? data.node.pullRequests.totalCount : 0;
    estimates.push({
      repoId: repo.id,
      fullName: repo.fullName,
      prs: created ? data.search.issueCount : total,
    });
  }
  const prs = estimates.reduce((sum, estimate) => sum + estimate.prs, 0);
  const points = estimates.filter((estimate) => estimate.prs > 0).length + Math.ceil(prs * POINTS_PER_PR);
  const rate = client.rateLimit;
  const usable = rate ? Math.max(0, rate.remaining - (rate.limit * options.reservePercent) / 100) : Infinity;
  const fetchSeconds = (prs / (PRS_PER_MINUTE * Math.max(1, Math.min(concurrency, parallel)))) * 60;
  let waitSeconds = 0;
  if (rate && points > usable) {
    // Every reset brings the hour's budget above the reserve back.
    const perHour = Math.max(1, rate.limit * (1 - options.reservePercent / 100));
    const hours = Math.ceil((points - usable) / perHour);
    const untilReset = Math.max(0, (rate.resetAt.getTime() - options.now.getTime()) / 1000);
    waitSeconds = untilReset + (hours - 1) * 3600;
  }
  return {
    repositories: estimates,
    prs,
    points,
    seconds: Math.round(Math.max(fetchSeconds, waitSeconds)),
    budget: rate ? { remaining: rate.remaining, limit: rate.limit, resetAt: rate.resetAt } : null,
    fitsBudget: points <= usable,
  };
}
