import type { PgBoss } from "pg-boss";
import { withTransaction, type Db } from "../db/client.js";
import {
  getInstallationSettings,
  listInstallations,
  updateInstallation,
  upsertInstallation,
  type InstallationAccount,
} from "../db/queries/installations.js";
import { upsertRepositories, type RepositoryFacts } from "../db/queries/repositories.js";
import type { Installation } from "../db/schema/index.js";
import type { ListedInstallation } from "../github/app-client.js";
import { enqueue } from "../queue/boss.js";
import { cleanText } from "../text.js";
import { confirmInstallationAccess, type AccessDeps } from "./access.js";
import { enqueueBackfills, resumeUnfinishedBackfills } from "./backfill.js";

/**
 * What installation.created does, and so whatever else finds an installation this database did
 * not know (GitHub's list of the App's installations, an event of an installation whose created
 * delivery was lost): store it and the repositories known so far, track them by the auto-track
 * rule and queue their backfills, then queue a full repository listing (payloads may not list
 * every repository; it also schedules the nightly sync) and, for an organization, a member sync.
 * `resumeBackfills` (unsuspend) also queues again the backfills a suspension cut short.
 */
export async function startInstallation(
  boss: PgBoss,
  db: Db,
  account: InstallationAccount,
  repositories: RepositoryFacts[],
  options: { resumeBackfills?: boolean } = {},
): Promise<Installation> {
  const installation = await upsertInstallation(db, account);
  const settings = await getInstallationSettings(db, account.id);
  const tracked = await upsertRepositories(db, account.id, repositories, {
    track: settings.autoTrackNewRepos,
  });
  await enqueueBackfills(boss, db, account.id, tracked);
  // Only here: queued beside a backfill still running, a job would find its repository locked and
  // wait its turn.
  if (options.resumeBackfills) await resumeUnfinishedBackfills(boss, db, account.id);
  await enqueue(boss, "syncRepositories", { installationId: account.id }, { tx: db });
  if (account.accountType === "Organization") {
    await enqueue(boss, "membersSync", { installationId: account.id }, { tx: db });
  }
  return installation;
}

export interface ReconcileResult {
  listed: number;
  /** Installations started here as if their installation.created had arrived. */
  started: number;
  suspended: number;
  unsuspended: number;
  /** Stored installations GitHub no longer lists and answered 404 for: marked deleted. */
  gone: number;
}

/**
 * Makes the stored installations the App's installations on GitHub (GET /app/installations):
 *
 *   1. each one missing here (its created delivery lost or refused), or marked deleted while
 *      GitHub still lists it, is started as if installation.created had arrived;
 *   2. suspensions and account renames GitHub shows are recorded, an unsuspend resumes the sync;
 *   3. each stored one GitHub does not list is asked for by id, and marked deleted only if GitHub
 *      answers 404 (a list read while an installation is being created may lag).
 */
export async function reconcileInstallations(deps: AccessDeps): Promise<ReconcileResult> {
  const client = await deps.app(deps.log);
  const listed = (await client.listInstallations()).filter((entry) => entry.account !== null);
  const stored = new Map((await listInstallations(deps.database.db)).map((row) => [row.id, row]));
  const result: ReconcileResult = {
    listed: listed.length,
    started: 0,
    suspended: 0,
    unsuspended: 0,
    gone: 0,
  };
  for (const entry of listed) {
    const change = await withTransaction(deps.database, (db) =>
      followListedInstallation(deps.boss, db, entry, stored.get(entry.id)),
    );
    if (change) result[change] += 1;
  }
  const listedIds = new Set(listed.map((entry) => entry.id));
  for (const row of stored.values()) {
    if (row.deletedAt || listedIds.has(row.id)) continue;
    if ((await confirmInstallationAccess(deps, row.id)) === "installation_gone") result.gone += 1;
  }
  if (result.started + result.suspended + result.unsuspended + result.gone > 0) {
    deps.log.info(result, "installations reconciled with github");
  }
  return result;
}

/** What GitHub's entry changes here, done in `db`: the change's name, or undefined for none. */
async function followListedInstallation(
  boss: PgBoss,
  db: Db,
  entry: ListedInstallation,
  stored: Installation | undefined,
): Promise<"started" | "suspended" | "unsuspended" | undefined> {
  const account: InstallationAccount = {
    id: entry.id,
    accountId: entry.account!.id,
    accountLogin: cleanText(entry.account!.login),
    accountType: entry.account!.type,
    repositorySelection: entry.repositorySelection,
    suspendedAt: entry.suspendedAt,
  };
  if (!stored || stored.deletedAt) {
    await startInstallation(boss, db, account, []);
    return "started";
  }
  if (stored.accountLogin !== account.accountLogin) {
    await updateInstallation(db, entry.id, { accountLogin: account.accountLogin });
  }
  if (entry.suspendedAt && !stored.suspendedAt) {
    await updateInstallation(db, entry.id, { suspendedAt: entry.suspendedAt });
    return "suspended";
  }
  if (!entry.suspendedAt && stored.suspendedAt) {
    await startInstallation(boss, db, account, [], { resumeBackfills: true });
    return "unsuspended";
  }
  return undefined;
}
