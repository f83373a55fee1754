import type { PgBoss } from "pg-boss";
import { withTransaction, type Database, type Db } from "../db/client.js";
import { getInstallationSettings } from "../db/queries/installations.js";
import {
  loadPullRequestsWithDetails,
  pullRequestIdsAfter,
  updatePullRequestMetrics,
  weeksOfInstallation,
  type DerivedPullRequestColumns,
} from "../db/queries/pull-requests.js";
import { deleteWeeklyMetrics } from "../db/queries/weekly-metrics.js";
import { computePullRequestMetrics, type HotfixPatterns } from "../metrics/pull-request.js";
import { queueWeeklyRefresh, queueWeeks } from "./weekly.js";

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
  const { computed } = await recomputeAndStore(db, installationId, ids, patterns);
  return computed.map(({ pr, metrics }) => ({ ...pr, ...metrics }));
}

/**
 * Computes the pull requests' derived columns and writes those that differ from what is stored;
 * returns every pull request as stored before, with its metrics, and the ones that changed.
 */
async function recomputeAndStore(db: Db, installationId: number, ids: number[], patterns: HotfixPatterns) {
  const prs = await loadPullRequestsWithDetails(db, installationId, ids);
  const computed = prs.map((pr) => ({ pr, metrics: computePullRequestMetrics(pr, patterns) }));
  // Most events (a push, a label) change none of them: no write, no row version.
  const changed = computed.filter(({ pr, metrics }) => !unchanged(pr, metrics));
  await updatePullRequestMetrics(
    db,
    installationId,
    changed.map(({ pr, metrics }) => ({ id: pr.id, metrics })),
  );
  return { computed, changed };
}

/** Pull requests recomputed per transaction: bounded statements, and progress a crash keeps. */
const BATCH = 500;

const DERIVED: (keyof DerivedPullRequestColumns)[] = [
  "firstReviewAt",
  "firstCommitAt",
  "cycleTimeHours",
  "reviewTimeHours",
  "codingPhaseHours",
  "pickupPhaseHours",
  "reviewPhaseHours",
  "isRevert",
  "revertPatternMatch",
  "isHotfix",
];

function same(a: unknown, b: unknown): boolean {
  return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;
}

/** Whether the stored derived columns already are these. */
function unchanged(stored: DerivedPullRequestColumns, metrics: DerivedPullRequestColumns): boolean {
  return DERIVED.every((key) => same(stored[key], metrics[key]));
}

/**
 * After an installation's patterns or timezone changed: every stored pull request's flags are
 * recomputed with the installation's settings, and the weeks of those that changed are refreshed.
 * With `allWeeks` (a new timezone moves every week's boundaries) the weekly figures are rebuilt
 * from scratch.
 */
export async function recomputeInstallation(
  database: Pick<Database, "db">,
  boss: PgBoss,
  installationId: number,
  options: { allWeeks: boolean },
): Promise<{ pullRequests: number; changed: number }> {
  const settings = await getInstallationSettings(database.db, installationId);
  if (options.allWeeks) {
    await withTransaction(database, async (db) => {
      await deleteWeeklyMetrics(db, installationId);
      await queueWeeks(
        boss,
        db,
        installationId,
        await weeksOfInstallation(db, installationId, settings.timezone),
      );
    });
  }
  let after = 0;
  let seen = 0;
  let changed = 0;
  for (;;) {
    const ids = await pullRequestIdsAfter(database.db, installationId, after, BATCH);
    if (ids.length === 0) break;
    await withTransaction(database, async (db) => {
      const { changed: updates } = await recomputeAndStore(db, installationId, ids, settings);
      await queueWeeklyRefresh(
        boss,
        db,
        installationId,
        settings.timezone,
        updates.flatMap(({ pr, metrics }) => [pr, { ...pr, ...metrics }]),
      );
      changed += updates.length;
    });
    seen += ids.length;
    after = ids.at(-1)!;
  }
  return { pullRequests: seen, changed };
}
