import type { PgBoss } from "pg-boss";
import { LOCK_NAMESPACE, inTurn, withTransaction, type Database, type Db } from "../db/client.js";
import { getInstallationSettings } from "../db/queries/installations.js";
import {
  listDerivationInputs,
  listInstallationsMissingWorkingHours,
  loadPullRequestsWithDetails,
  updateDerivedColumns,
  weeksOfInstallation,
  type DerivedPullRequestColumns,
} from "../db/queries/pull-requests.js";
import { listWeeksWithRows } from "../db/queries/weekly-metrics.js";
import {
  computeDerivedMetrics,
  computePullRequestMetrics,
  type DerivationSettings,
} from "../metrics/pull-request.js";
import { enqueue } from "../queue/boss.js";
import type { InstallationSettings } from "../settings.js";
import { queueWeeks } from "./weekly.js";

/**
 * Recomputes the derived columns of pull requests from what is stored (after a webhook changed a
 * pull request or one of its reviews). Returns them as they are now.
 */
export async function recomputePullRequests(
  db: Db,
  installationId: number,
  ids: number[],
  settings: DerivationSettings,
) {
  const prs = await loadPullRequestsWithDetails(db, installationId, ids);
  const computed = prs.map((pr) => ({ pr, metrics: computePullRequestMetrics(pr, settings) }));
  // Most events (a push, a label) change none of them: no write, no row version.
  const changed = computed.filter(({ pr, metrics }) => !unchanged(pr, metrics));
  await updateDerivedColumns(
    db,
    installationId,
    changed.map(({ pr, metrics }) => ({ id: pr.id, values: metrics })),
  );
  return computed.map(({ pr, metrics }) => ({ ...pr, ...metrics }));
}

function same(a: unknown, b: unknown): boolean {
  return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;
}

/** Whether the stored derived columns already are these. */
function unchanged(stored: Partial<DerivedPullRequestColumns>, values: Partial<DerivedPullRequestColumns>) {
  return (Object.keys(values) as (keyof DerivedPullRequestColumns)[]).every((key) =>
    same(stored[key], values[key]),
  );
}

/**
 * Pull requests read per statement of the full recompute: 100,000 take 20 round trips, and a batch
 * (a few MB) never shows in the process's memory.
 */
const BATCH = 5000;

/**
 * After an installation's settings changed, every figure again: each stored pull request's values
 * that settings decide (durations in calendar and working hours, hotfix, revert by pattern), then
 * every week that has rows or activity marked out of date, which the weekly job rebuilds in one
 * statement (a new timezone moves every week's boundaries; new patterns change flags and new working
 * hours change durations anywhere in the history).
 *
 * Recomputes of one installation take turns, each reading the settings when its turn comes: after
 * saves in quick succession the last one's settings win, and two never write over each other.
 */
export async function recomputeInstallation(
  database: Pick<Database, "db" | "sql">,
  boss: PgBoss,
  installationId: number,
): Promise<{ pullRequests: number; changed: number; weeks: number }> {
  return inTurn(database, LOCK_NAMESPACE.recompute, String(installationId), () =>
    recomputeEverything(database, boss, installationId),
  );
}

async function recomputeEverything(database: Pick<Database, "db">, boss: PgBoss, installationId: number) {
  const settings = await getInstallationSettings(database.db, installationId);
  const result = await recomputeDerivedValues(database.db, installationId, settings);
  const weeks = await withTransaction(database, async (db) => {
    const [active, stored] = await Promise.all([
      weeksOfInstallation(db, installationId, settings.timezone),
      listWeeksWithRows(db, installationId),
    ]);
    const all = [...new Set([...active, ...stored])];
    await queueWeeks(boss, db, installationId, all);
    return all.length;
  });
  return { ...result, weeks };
}

/**
 * Every stored pull request's settings-dependent values, a batch per statement: read, computed by
 * computeDerivedMetrics, and written where they changed. A pull request written meanwhile (by a
 * webhook or a sync, which compute its values themselves) is left as they wrote it.
 */
export async function recomputeDerivedValues(
  db: Db,
  installationId: number,
  settings: InstallationSettings,
): Promise<{ pullRequests: number; changed: number }> {
  let after = 0;
  let seen = 0;
  let changed = 0;
  for (;;) {
    const prs = await listDerivationInputs(db, installationId, after, BATCH);
    if (prs.length === 0) break;
    const updates = prs.flatMap((pr) => {
      const values = computeDerivedMetrics(pr, settings);
      return unchanged(pr, values) ? [] : [{ id: pr.id, writtenAt: pr.writtenAt, values }];
    });
    await updateDerivedColumns(db, installationId, updates);
    seen += prs.length;
    changed += updates.length;
    after = prs.at(-1)!.id;
  }
  return { pullRequests: seen, changed };
}

/**
 * At start: a recompute for every installation whose stored pull requests lack working hours
 * (written by a version before them), so that upgrading fills them in without a settings change.
 * Replicas starting together may queue one each; recomputes of an installation take turns, and the
 * second finds nothing to change.
 */
export async function queueMissingWorkingHours(
  database: Pick<Database, "db">,
  boss: PgBoss,
): Promise<number> {
  const installations = await listInstallationsMissingWorkingHours(database.db);
  for (const installationId of installations)
    await enqueue(boss, "recomputePullRequests", { installationId });
  return installations.length;
}
