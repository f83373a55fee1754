import type { Db } from "../db/client.js";
import { loadPullRequestsWithDetails, updatePullRequestMetrics } from "../db/queries/pull-requests.js";
import { computePullRequestMetrics, type HotfixPatterns } from "../metrics/pull-request.js";

/**
 * Recomputes the derived columns of pull requests from what is stored (after a webhook changed a
 * pull request or one of its reviews). Returns them as they are now.
 */
export async function recomputePullRequests(
  db: Db,
  installationId: number,
  ids: number[],
  patterns: HotfixPatterns,
) {
  const prs = await loadPullRequestsWithDetails(db, installationId, ids);
  const updates = prs.map((pr) => ({ id: pr.id, metrics: computePullRequestMetrics(pr, patterns) }));
  await updatePullRequestMetrics(db, installationId, updates);
  return prs.map((pr, index) => ({ ...pr, ...updates[index]!.metrics }));
}
