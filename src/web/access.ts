import type { FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { Database } from "../db/client.js";
import { findInstallation, listInstallations } from "../db/queries/installations.js";
import { updateSessionAuthorization } from "../db/queries/sessions.js";
import type { Installation, Session } from "../db/schema/index.js";
import { AuthError, NotFoundError, PermissionError } from "../errors.js";
import type { GitHubClientFactory } from "../github/installation-client.js";
import { formExpired, message } from "./render.js";
import { AUTHORIZATION_TTL_MS, hasValidCsrfToken } from "./session.js";

/**
 * Who may see and change what in the settings UI: the admins of an installation's organization,
 * or the owner of a personal account's installation. Sign-in records the user's installations; they
 * are confirmed with GitHub again when older than five minutes, and before every change, so a
 * demoted admin loses access and a new installation appears without signing out.
 */

export interface AccessDeps {
  database: Database;
  github: GitHubClientFactory;
  log: Logger;
  now: () => Date;
}

/** Membership lookups run a few at a time: one per installation of the deployment. */
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

/** The session's installations, confirmed with GitHub first when stale or when `fresh` is asked. */
export async function confirmedInstallations(
  deps: AccessDeps,
  session: Session,
  options: { fresh: boolean },
): Promise<number[]> {
  const now = deps.now();
  const stale = now.getTime() - session.authorizedAt.getTime() >= AUTHORIZATION_TTL_MS;
  if (!stale && !options.fresh) return session.installationIds;
  const ids = await administeredInstallations(deps, session, session.installationIds);
  await updateSessionAuthorization(deps.database.db, session.id, ids, now);
  session.installationIds = ids;
  session.authorizedAt = now;
  return ids;
}

/** Where a signed-out visitor goes: sign-in, then back here (GET pages only). */
function redirectToSignIn(request: FastifyRequest, reply: FastifyReply) {
  const next = request.method === "GET" ? `?next=${encodeURIComponent(request.url)}` : "";
  return reply.redirect(`/login${next}`, 303);
}

export interface InstallationAccess {
  session: Session;
  installation: Installation;
}

/**
 * The gate of every installation page and form, whose path names the installation
 * (`:installationId`): a session (else sign-in), a valid CSRF token on anything but GET, and the
 * installation among those the user administers, confirmed with GitHub before a change. Anything
 * else is a 404, so another organization's ids reveal nothing.
 * Returns undefined after answering the request itself.
 */
export async function openInstallation(
  deps: AccessDeps,
  request: FastifyRequest<{ Params: { installationId: string } }>,
  reply: FastifyReply,
): Promise<InstallationAccess | undefined> {
  reply.header("cache-control", "no-store");
  const session = request.session;
  if (!session) {
    await redirectToSignIn(request, reply);
    return undefined;
  }
  const changing = request.method !== "GET" && request.method !== "HEAD";
  if (changing && !hasValidCsrfToken(request, session)) {
    await formExpired(request, reply);
    return undefined;
  }
  const raw = request.params.installationId;
  const installationId = /^\d{1,18}$/.test(raw) ? Number(raw) : NaN;
  const allowed = await confirmedInstallations(deps, session, { fresh: changing });
  const installation =
    Number.isSafeInteger(installationId) && allowed.includes(installationId)
      ? await findInstallation(deps.database.db, installationId)
      : undefined;
  if (!installation) {
    await message(request, reply, 404, {
      title: "Not found",
      heading: "Not found",
      message: "There is no such page, or it belongs to an installation you do not administer.",
    });
    return undefined;
  }
  return { session, installation };
}
