import type { PgBoss } from "pg-boss";
import type { Db } from "../../db/client.js";
import { findInstallation, upsertInstallation } from "../../db/queries/installations.js";
import { findRepository, upsertRepositories } from "../../db/queries/repositories.js";
import type { Repository } from "../../db/schema/index.js";
import { enqueue } from "../../jobs/boss.js";
import { parseInstallationSettings, type InstallationSettings } from "../../settings.js";

interface PayloadAccount {
  id: number;
  login: string;
  type?: string;
}

interface PayloadRepository {
  id: number;
  node_id?: string;
  full_name: string;
  private?: boolean;
  archived?: boolean;
  default_branch?: string;
}

export interface RepositoryPayload {
  installation?: { id: number };
  organization?: PayloadAccount;
  repository: PayloadRepository & { owner: PayloadAccount | null };
}

export interface KnownRepository {
  installationId: number;
  settings: InstallationSettings;
  repository: Repository;
}

/**
 * The installation and repository an event is about. An installation we missed (its "created"
 * delivery lost, or the App installed before this database existed) is created from the payload,
 * and so is a repository, tracked by the installation's auto-track rule. Returns undefined for an
 * installation that was deleted.
 */
export async function resolveKnownRepository(
  db: Db,
  payload: RepositoryPayload,
): Promise<KnownRepository | undefined> {
  const installationId = payload.installation?.id;
  if (!installationId) return undefined;
  let installation = await findInstallation(db, installationId);
  if (!installation) {
    const account = payload.organization ?? payload.repository.owner;
    if (!account) return undefined;
    installation = await upsertInstallation(db, {
      id: installationId,
      accountId: account.id,
      accountLogin: account.login,
      accountType: account.type === "User" ? "User" : "Organization",
    });
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

export function repositoryFacts(repo: PayloadRepository) {
  return {
    id: repo.id,
    nodeId: repo.node_id ?? null,
    fullName: repo.full_name,
    private: repo.private ?? false,
    archived: repo.archived ?? false,
    defaultBranch: repo.default_branch ?? null,
  };
}

/** Queues the fetch of what a payload lacks (all reviews and commits), in the handler's transaction. */
export async function enqueueRefresh(
  boss: PgBoss,
  db: Db,
  known: KnownRepository,
  pr: { id: number; node_id?: string },
): Promise<void> {
  if (!pr.node_id) return;
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
