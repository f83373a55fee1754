import type { Logger } from "pino";
import type { Database } from "../db/client.js";
import { findInstallation, listInstallations } from "../db/queries/installations.js";
import { recordInstallationCheck, updateSessionAuthorization } from "../db/queries/sessions.js";
import type { Installation, Session } from "../db/schema/index.js";
import { AuthError, NotFoundError, PermissionError } from "../errors.js";
import type { GitHubClientFactory } from "../github/installation-client.js";
import { AUTHORIZATION_TTL_MS } from "./session.js";

/**
 * Who may see and change what in the settings UI: the admins of an installation's organization,
 * or the owner of a personal account's installation. Sign-in records the user's installations
 * (asked of GitHub with the user's own token). A page confirms the one installation it names with
 * GitHub again when the answer is older than five minutes, and before every change, so a demoted
 * admin loses access; the home page confirms the whole list when it is older than five minutes,
 * so a new installation appears without signing out. The gate (src/web/gate.ts) applies this.
 */

export interface AccessDeps {
  database: Database;
  github: GitHubClientFactory;
  log: Logger;
  now: () => Date;
}

/** The home page's membership lookups run a few at a time: one per installation of the deployment. */
const LOOKUP_CONCURRENCY = 4;

/**
 * The installations `user` administers, asked of GitHub with each installation's own token
 * (organization memberships need the App's members permission, which it has). An installation
 * GitHub will not give a token for (suspended, being uninstalled) keeps the answer of the last check.
 */
async function administeredInstallations(
  deps: AccessDeps,
  user: { userId: number; login: string },
  previously: readonly number[],
): Promise<number[]> {
  const candidates = (await listInstallations(deps.database.db)).filter((i) => !i.deletedAt);
  const admin = new Set<number>();
  const queue = [...candidates];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      if (await isAdmin(deps, next, user, previously)) admin.add(next.id);
    }
  };
  await Promise.all(Array.from({ length: LOOKUP_CONCURRENCY }, worker));
  return candidates.filter((i) => admin.has(i.id)).map((i) => i.id);
}

async function isAdmin(
  deps: AccessDeps,
  installation: Installation,
  user: { userId: number; login: string },
  previously: readonly number[],
): Promise<boolean> {
  if (installation.accountType === "User") return installation.accountId === user.userId;
  try {
    const client = await deps.github(installation.id, deps.log);
    const membership = await client.organizationMembership(installation.accountLogin, user.login);
    return membership?.role === "admin" && membership.state === "active";
  } catch (error) {
    if (error instanceof AuthError || error instanceof PermissionError || error instanceof NotFoundError) {
      return previously.includes(installation.id);
    }
    throw error;
  }
}

/** Whether the session's answer about an installation is younger than AUTHORIZATION_TTL_MS. */
function isFresh(session: Session, installationId: number, now: Date): boolean {
  const single = session.installationChecks[String(installationId)];
  const checkedAt = Math.max(session.authorizedAt.getTime(), single ? Date.parse(single) : 0);
  return now.getTime() - checkedAt < AUTHORIZATION_TTL_MS;
}

/**
 * The installations the home page lists: the session's, all confirmed with GitHub when the list
 * is stale. The only check of every installation of the deployment (one request per organization
 * installation, a few at a time): at most once per session every five minutes, and never for a
 * change. It is also how an installation made after sign-in shows up.
 */
export async function confirmedInstallations(deps: AccessDeps, session: Session): Promise<number[]> {
  const now = deps.now();
  if (now.getTime() - session.authorizedAt.getTime() < AUTHORIZATION_TTL_MS) return session.installationIds;
  const ids = await administeredInstallations(deps, session, session.installationIds);
  await updateSessionAuthorization(deps.database.db, session.id, ids, now);
  session.installationIds = ids;
  session.authorizedAt = now;
  session.installationChecks = {};
  return ids;
}

/**
 * The installation a page or form names, if the session's user administers it. An installation
 * the session never had is refused without asking GitHub (only the home page's full check adds
 * one); one it has is confirmed with GitHub, alone, when the cached answer is stale or `fresh` is
 * asked (before every change). An uninstalled installation is no longer administered.
 */
export async function confirmInstallation(
  deps: AccessDeps,
  session: Session,
  installationId: number,
  options: { fresh: boolean },
): Promise<Installation | undefined> {
  if (!session.installationIds.includes(installationId)) return undefined;
  const installation = await findInstallation(deps.database.db, installationId);
  if (!installation) return undefined;
  const now = deps.now();
  if (!options.fresh && isFresh(session, installationId, now)) return installation;
  const administered =
    !installation.deletedAt && (await isAdmin(deps, installation, session, session.installationIds));
  await recordInstallationCheck(deps.database.db, session.id, { installationId, administered, at: now });
  return administered ? installation : undefined;
}
