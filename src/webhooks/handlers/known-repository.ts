import type { PgBoss } from "pg-boss";
import { withTransaction, type Db } from "../../db/client.js";
import {
  findInstallation,
  upsertInstallation,
  type InstallationAccount,
} from "../../db/queries/installations.js";
import { findRepository, upsertRepositories, type RepositoryFacts } from "../../db/queries/repositories.js";
import type { Repository } from "../../db/schema/index.js";
import { enqueue } from "../../queue/boss.js";
import { queueWeeklyRefresh } from "../../sync/weekly.js";
import type { DatedPullRequest } from "../../metrics/weeks.js";
import type { HandlerDeps } from "./deps.js";
import { parseInstallationSettings, type InstallationSettings } from "../../settings.js";
import { cleanText } from "../../text.js";
import type { PayloadAccount, PayloadRepositoryFacts, RepositoryEventBase } from "../payloads.js";

export interface KnownRepository {
  installationId: number;
  settings: InstallationSettings;
  repository: Repository;
}

/** The installation columns an event's account fills in. */
export function installationAccount(
  installationId: number,
  account: PayloadAccount,
): Omit<InstallationAccount, "repositorySelection" | "suspendedAt"> {
  return {
    id: installationId,
    accountId: account.id,
    accountLogin: cleanText(account.login),
    accountType: account.type,
  };
}

export function repositoryFacts(repo: PayloadRepositoryFacts): RepositoryFacts {
  return {
    id: repo.id,
    nodeId: repo.node_id ?? null,
    fullName: cleanText(repo.full_name),
    private: repo.private ?? false,
    archived: repo.archived ?? false,
    defaultBranch: repo.default_branch === undefined ? null : cleanText(repo.default_branch),
  };
}

/**
 * The installation and repository an event is about. An installation we missed (its "created"
 * delivery lost, or the App installed before this database existed) is created from the payload's
 * organization or repository owner, and so is a repository, tracked by the installation's
 * auto-track rule. Returns undefined for an installation that was deleted, or one the payload does
 * not describe well enough to create.
 */
export async function resolveKnownRepository(
  db: Db,
  payload: RepositoryEventBase,
): Promise<KnownRepository | undefined> {
  const installationId = payload.installation.id;
  let installation = await findInstallation(db, installationId);
  if (!installation) {
    const owner = payload.repository.owner;
    const account: PayloadAccount | undefined = payload.organization
      ? { ...payload.organization, type: "Organization" }
      : owner && (owner.type === "User" || owner.type === "Organization")
        ? { id: owner.id, login: owner.login, type: owner.type }
        : undefined;
    if (!account) return undefined;
    installation = await upsertInstallation(db, installationAccount(installationId, account));
  }
  if (installation.deletedAt) return undefined;
  const settings = parseInstallationSettings(installation.settings);
  let repository = await findRepository(db, payload.repository.id);
  if (!repository || repository.installationId !== installationId || repository.removedAt) {
    await upsertRepositories(db, installationId, [repositoryFacts(payload.repository)], {
      track: settings.autoTrackNewRepos,
    });
    repository = (await findRepository(db, payload.repository.id))!;
  }
  return { installationId, settings, repository };
}

/** Queues the fetch of what a payload lacks (all reviews and commits), in the handler's transaction. */
export async function enqueueRefresh(
  boss: PgBoss,
  db: Db,
  known: KnownRepository,
  pr: { id: number; node_id: string },
): Promise<void> {
  await enqueue(
    boss,
    "refreshPullRequest",
    {
      installationId: known.installationId,
      repoId: known.repository.id,
      pullRequestId: pr.id,
      nodeId: pr.node_id,
    },
    { tx: db },
  );
}

/**
 * Marks the weeks a webhook's change touched and queues their refresh, after the handler's
 * transaction committed. Inside it, every delivery of a burst would wait for the others on the same
 * few pending-week rows (this week's, last week's). A crash between the commit and this leaves the
 * delivery's job unfinished, so it runs again and marks them then.
 */
export async function queueWeeksAfterCommit(
  deps: HandlerDeps,
  known: KnownRepository,
  prs: DatedPullRequest[],
): Promise<void> {
  await withTransaction(deps.database, (db) =>
    queueWeeklyRefresh(deps.boss, db, known.installationId, known.settings.timezone, prs),
  );
}
