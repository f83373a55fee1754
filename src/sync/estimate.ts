import type { Repository } from "../db/schema/index.js";
import { failedNodeIndexes, type GitHubClient } from "../github/client.js";
import type { InstallationSettings, SyncDepth } from "../settings.js";
import { BEGINNING_OF_TIME, depthCutoff, isBackfillCovered } from "./backfill.js";
import { MAX_NODE_IDS, MAX_PAGE_SIZE } from "./page-size.js";

/**
 * What a backfill will cost before it starts or deepens: the pull requests in the window (one query
 * for a hundred repositories), the API points they take, and the time at the installation's budget now.
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
  /**
   * exact: counted from the newest pull requests, which reach past the window; estimated: the window
   * goes back further than them, extrapolated from their rate; unknown: GitHub did not answer for
   * the repository (0 counted).
   */
  count: "exact" | "estimated" | "unknown";
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

/** The creation times a backfill still fetches: [from, until), either end open when null. */
export interface EstimateWindow {
  from: Date | null;
  until: Date | null;
}

/** A repository's newest pull requests by creation, as repository-window-sizes answers them. */
export interface NewestPullRequests {
  totalCount: number;
  nodes?: ({ createdAt: string } | null)[] | null;
}

type Count = Pick<RepositoryEstimate, "prs" | "count">;
type EstimatedRepository = Pick<Repository, "id" | "fullName" | "nodeId" | "syncDepth" | "backfilledSince">;

/**
 * 1. each repository's window not stored yet;
 * 2. its pull requests, counted from its newest hundred: one query for a hundred repositories
 *    (1 point), so 500 repositories wait for 5 queries at the installation's pace, not 500;
 * 3. the points and time those pull requests take.
 */
export async function estimateBackfills(
  client: GitHubClient,
  repos: EstimatedRepository[],
  options: { depth?: SyncDepth; settings: InstallationSettings; now: Date; reservePercent: number },
  concurrency: number,
  parallel: number,
): Promise<BackfillEstimate> {
  const windows = repos.map((repo) => ({ repo, window: windowToFetch(repo, options) }));
  const counts = await countWindows(client, windows, options.now);
  const estimates = repos.map((repo) => ({
    repoId: repo.id,
    fullName: repo.fullName,
    // Nothing to fetch, or no node id to ask with (its backfill cannot run either).
    ...(counts.get(repo.id) ?? { prs: 0, count: "exact" as const }),
  }));
  return { repositories: estimates, ...costOf(estimates, client, options, concurrency, parallel) };
}

/** The window of creation times not stored yet; null when the stored history covers the depth. */
function windowToFetch(
  repo: EstimatedRepository,
  options: { depth?: SyncDepth; settings: InstallationSettings; now: Date },
): EstimateWindow | null {
  const depth = options.depth ?? repo.syncDepth ?? options.settings.defaultSyncDepth;
  const cutoff = depthCutoff(depth, options.now);
  if (isBackfillCovered(repo.backfilledSince, cutoff)) return null;
  // An earlier, shallower backfill stored everything created since backfilledSince.
  const until =
    repo.backfilledSince && repo.backfilledSince > BEGINNING_OF_TIME ? repo.backfilledSince : null;
  return { from: cutoff, until };
}

/** Each window's count, a hundred repositories a query; a repository GitHub did not answer for is unknown. */
async function countWindows(
  client: GitHubClient,
  windows: { repo: EstimatedRepository; window: EstimateWindow | null }[],
  now: Date,
): Promise<Map<number, Count>> {
  const asked = windows.filter((entry) => entry.window && entry.repo.nodeId);
  const counts = new Map<number, Count>();
  for (let start = 0; start < asked.length; start += MAX_NODE_IDS) {
    const batch = asked.slice(start, start + MAX_NODE_IDS);
    const { data, errors } = await client.graphqlPartial("repository-window-sizes", {
      ids: batch.map((entry) => entry.repo.nodeId!),
      first: MAX_PAGE_SIZE,
    });
    const failed = failedNodeIndexes(errors);
    for (const [index, { repo, window }] of batch.entries()) {
      const node = data.nodes[index];
      const answered = failed && !failed.has(index) && node && "pullRequests" in node;
      counts.set(repo.id, answered ? countWindow(node.pullRequests, window!, now) : UNKNOWN);
    }
  }
  return counts;
}

const UNKNOWN: Count = { prs: 0, count: "unknown" };

/**
 * The pull requests created in `window`, from the newest ones (by creation) and the total. Exact
 * when the newest reach past the window's start (or are all there are); otherwise the part they do
 * not reach is extrapolated at their rate (their number over the time since the oldest of them),
 * never more than the pull requests older than they are.
 */
export function countWindow(newest: NewestPullRequests, window: EstimateWindow, now: Date): Count {
  const times = (newest.nodes ?? []).flatMap((pr) => (pr ? [new Date(pr.createdAt).getTime()] : []));
  const older = newest.totalCount - (newest.nodes?.length ?? 0);
  if (times.length === 0) return older > 0 ? UNKNOWN : { prs: 0, count: "exact" };
  const from = window.from?.getTime() ?? -Infinity;
  const until = window.until?.getTime() ?? Infinity;
  const seen = times.filter((time) => time >= from && time < until).length;
  const oldest = Math.min(...times);
  if (older <= 0 || oldest < from) return { prs: seen, count: "exact" };
  // Without a start, the older ones are all in the window when it ends after the oldest seen.
  if (from === -Infinity && until > oldest) return { prs: seen + older, count: "exact" };
  const rate = times.length / Math.max(1, now.getTime() - oldest);
  if (from === -Infinity) {
    // Those created between the window's end and the oldest seen are not fetched.
    const after = Math.round(rate * (oldest - until));
    return { prs: Math.max(0, older - after), count: "estimated" };
  }
  const unseen = Math.round(rate * Math.max(0, Math.min(oldest, until) - from));
  return { prs: seen + Math.min(older, unseen), count: "estimated" };
}

/** The points a backfill of `estimates` takes, and its time at the installation's budget now. */
function costOf(
  estimates: RepositoryEstimate[],
  client: GitHubClient,
  options: { now: Date; reservePercent: number },
  concurrency: number,
  parallel: number,
): Omit<BackfillEstimate, "repositories"> {
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
    prs,
    points,
    seconds: Math.round(Math.max(fetchSeconds, waitSeconds)),
    budget: rate ? { remaining: rate.remaining, limit: rate.limit, resetAt: rate.resetAt } : null,
    fitsBudget: points <= usable,
  };
}
