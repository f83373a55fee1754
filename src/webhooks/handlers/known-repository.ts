import type { PgBoss } from "pg-boss";
import type { Db } from "../../db/client.js";
import { findInstallation, type InstallationAccount } from "../../db/queries/installations.js";
import { findRepository, upsertRepositories, type RepositoryFacts } from "../../db/queries/repositories.js";
import type { Repository } from "../../db/schema/index.js";
import type { JobData } from "../../queue/catalog.js";
import { parseInstallationSettings, type InstallationSettings } from "../../settings.js";
import { enqueueBackfills } from "../../sync/backfill.js";
import { startInstallation } from "../../sync/installations.js";
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
 * delivery lost, or the App installed before this database existed) is started from the payload's
 * organization or repository owner, as installation.created would have (its repository listing,
 * members and nightly sync queued); a repository we missed is stored, tracked by the
 * installation's auto-track rule, and its backfill queued: the event alone is one pull request,
 * not its history. Returns undefined for an installation that was deleted, or one the payload
 * does not describe well enough to create.
 */
export async function resolveKnownRepository(
  boss: PgBoss,
  db: Db,
  payload: RepositoryEventBase,
): Promise<KnownRepository | undefined> {
  const installationId = payload.installation.id;
  // Both at once: one round trip in the handler's transaction.
  let [installation, repository] = await Promise.all([
    findInstallation(db, installationId),
    findRepository(db, payload.repository.id),
  ]);
  if (!installation) {
    const account = payloadAccount(payload);
    if (!account) return undefined;
    installation = await startInstallation(boss, db, installationAccount(installationId, account), []);
  }
  if (installation.deletedAt) return undefined;
  const settings = parseInstallationSettings(installation.settings);
  if (!isCurrentRepository(repository, installationId)) {
    const tracked = await upsertRepositories(db, installationId, [repositoryFacts(payload.repository)], {
      track: settings.autoTrackNewRepos,
    });
    await enqueueBackfills(boss, db, installationId, tracked);
    repository = (await findRepository(db, payload.repository.id))!;
  }
  return { installationId, settings, repository };
}

/** The account of an installation, from an event about one of its repositories. */
function payloadAccount(payload: RepositoryEventBase): PayloadAccount | undefined {
  if (payload.organization) return { ...payload.organization, type: "Organization" };
  const owner = payload.repository.owner;
  return owner && (owner.type === "User" || owner.type === "Organization")
    ? { id: owner.id, login: owner.login, type: owner.type }
    : undefined;
}

/**
 * Whether the stored repository is the installation's as it stands, so that an event about it
 * needs nothing created or restored first.
 */
export function isCurrentRepository(
  repository: Repository | undefined,
  installationId: number,
): repository is Repository {
  return Boolean(repository && repository.installationId === installationId && !repository.removedAt);
}

/** The refresh that fetches what a payload lacks (all reviews and commits). */
export function refreshJob(
  known: KnownRepository,
  pr: { id: number; node_id: string },
): JobData<"refreshPullRequest"> {
  return {
    installationId: known.installationId,
    repoId: known.repository.id,
    pullRequestId: pr.id,
    nodeId: pr.node_id,
  };
}
