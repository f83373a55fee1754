import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import type { Installation, Session } from "../db/schema/index.js";
import { RequestInputError } from "../errors.js";
import { findInstallation } from "../db/queries/installations.js";
import { confirmInstallation, type AccessDeps } from "./access.js";
import { findApiToken } from "./api-token.js";
import type { Access } from "./contract.js";
import { asArray } from "./plugins/route-hooks.js";
import { formExpired, message } from "./render.js";
import { hasValidCsrfToken } from "./session.js";

/**
 * The one gate of the settings UI: from a route's `config.access`, who may enter is decided
 * before its input is validated and before its handler runs.
 *
 * - "user": a signed-in user's change (anything but GET) carries the session's CSRF token.
 * - "installation-admin": a session (else sign-in), the CSRF token on a change, and the
 *   installation the path names among those the user administers, confirmed with GitHub when the
 *   cached answer is stale and before every change (src/web/access.ts). Anything else is a 404,
 *   so another organization's ids reveal nothing. The handler then reads `request.installation`
 *   and `request.admin`.
 *
 * Input that does not fit the route's schema is answered with a 400 page: the route's own
 * `invalidInput` renderer (a form shown again with the message beside the field), or a message.
 */

/** Shows a page for input the route's schema refused (status 400). */
export type InvalidInputRenderer = (
  request: FastifyRequest,
  reply: FastifyReply,
  error: RequestInputError,
) => unknown;

declare module "fastify" {
  interface FastifyContextConfig {
    invalidInput?: InvalidInputRenderer;
  }
  interface FastifyRequest {
    /** The installation of an "installation-admin" route; reading it elsewhere throws. */
    readonly installation: Installation;
    /** The session of the admin who opened it (not on an "api-token" route). */
    readonly admin: Session;
  }
}

const opened = new WeakMap<FastifyRequest, { installation: Installation; admin: Session | null }>();

function openedBy(request: FastifyRequest) {
  const access = opened.get(request);
  if (!access) throw new Error(`${request.routeOptions.url} is not an installation-admin route`);
  return access;
}

const isChange = (request: FastifyRequest) => request.method !== "GET" && request.method !== "HEAD";

/** Where a signed-out visitor goes: sign-in, then back here (GET pages only). */
function redirectToSignIn(request: FastifyRequest, reply: FastifyReply) {
  const next = request.method === "GET" ? `?next=${encodeURIComponent(request.url)}` : "";
  return reply.redirect(`/login${next}`, 303);
}

/** What anyone gets for a page they may not see: the same answer as for one that does not exist. */
export function notFound(request: FastifyRequest, reply: FastifyReply) {
  return message(request, reply, 404, {
    title: "Not found",
    heading: "Not found",
    message: "There is no such page, or it belongs to an installation you do not administer.",
  });
}

/** Installs the gate on every route of this scope, by its `config.access`. */
export function installGate(app: FastifyInstance, deps: AccessDeps): void {
  app.decorateRequest("installation", {
    getter(this: FastifyRequest) {
      return openedBy(this).installation;
    },
  });
  app.decorateRequest("admin", {
    getter(this: FastifyRequest) {
      const { admin } = openedBy(this);
      if (!admin) throw new Error(`${this.routeOptions.url} is opened by a token, not an admin`);
      return admin;
    },
  });

  const user = async (request: FastifyRequest, reply: FastifyReply) => {
    const session = request.session;
    if (session && isChange(request) && !hasValidCsrfToken(request, session)) {
      return formExpired(request, reply);
    }
  };

  const installationAdmin = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header("cache-control", "no-store");
    const session = request.session;
    if (!session) return redirectToSignIn(request, reply);
    if (isChange(request) && !hasValidCsrfToken(request, session)) return formExpired(request, reply);
    const raw = (request.params as { installationId?: unknown }).installationId;
    const installationId = typeof raw === "string" && /^[0-9]{1,18}$/.test(raw) ? Number(raw) : NaN;
    const installation = Number.isSafeInteger(installationId)
      ? await confirmInstallation(deps, session, installationId, { fresh: isChange(request) })
      : undefined;
    if (!installation) return notFound(request, reply);
    opened.set(request, { installation, admin: session });
  };

  /**
   * A token of the read API: 401 without a valid one, 404 (as for an installation that does not
   * exist) when the path names another installation than the token's.
   */
  const apiToken = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header("cache-control", "no-store");
    const token = await findApiToken(deps.database.db, request.headers.authorization, deps.now());
    if (!token) {
      return reply
        .code(401)
        .header("www-authenticate", 'Bearer realm="pr-pulse"')
        .send({ error: "A valid API token is required: Authorization: Bearer <token>." });
    }
    const raw = (request.params as { installationId?: unknown }).installationId;
    const installation =
      raw === String(token.installationId)
        ? await findInstallation(deps.database.db, token.installationId)
        : undefined;
    if (!installation || installation.deletedAt) return reply.code(404).send({ error: "Not found" });
    opened.set(request, { installation, admin: null });
  };

  const gates: Record<Access, ((request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) | null> = {
    public: null,
    user,
    "installation-admin": installationAdmin,
    "api-token": apiToken,
  };

  app.addHook("onRoute", (route: RouteOptions) => {
    const gate = gates[route.config?.access ?? "public"];
    if (gate) route.preValidation = [gate as never, ...asArray(route.preValidation)];
  });

  answerBadInputWithPages(app);
}

/**
 * In this scope, input a route's schema refused is answered with a page (status 400): the route's
 * `invalidInput` renderer, or a message. Other errors go on to the server's error handler.
 */
export function answerBadInputWithPages(app: FastifyInstance): void {
  app.setErrorHandler(async (error, request, reply) => {
    if (!(error instanceof RequestInputError)) throw error;
    const render = request.routeOptions.config.invalidInput;
    if (render) return render(request, reply.code(400), error);
    return badRequest(request, reply, error);
  });
}

/** The page for a request whose input does not fit: what was wrong, field by field. */
function badRequest(request: FastifyRequest, reply: FastifyReply, error: RequestInputError) {
  return message(request, reply, 400, {
    title: "Bad request",
    heading: "This request cannot be used",
    message: `It does not fit what this page takes: ${error.message}`,
  });
}
