import type { FastifyInstance } from "fastify";
import type { PgBoss } from "pg-boss";
import type { Config } from "../../config.js";
import type { Database } from "../../db/client.js";
import { AppError, InvalidInputError } from "../../errors.js";
import { authorizeUrl, oauthClient, signInWithGitHub } from "../../github/oauth.js";
import { enqueue } from "../../queue/boss.js";
import { form, noQuery, query, text, type ZodTypeProvider } from "../contract.js";
import { message } from "../render.js";
import { cookieOptions, endSession, safeReturnPath, startSession } from "../session.js";
import { issueState, takeState, type StateCookie } from "../state-cookie.js";

export interface AuthRouteOptions {
  config: Config;
  database: Database;
  boss: PgBoss;
  now: () => Date;
}

/** The page to return to after signing in, kept beside the state for the round trip to GitHub. */
const NEXT_COOKIE = "pr_pulse_next";

/**
 * "Sign in with GitHub" with the App's OAuth client. A random state in a signed cookie ties the
 * callback to the browser that started the flow; the callback starts a server-side session holding
 * the installations the user administers, then returns to the page that asked for sign-in.
 */
export async function authRoutes(fastify: FastifyInstance, options: AuthRouteOptions) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { config, database } = options;
  const stateCookie: StateCookie = {
    name: "pr_pulse_oauth_state",
    path: "/login",
    // GitHub's OAuth codes expire after ten minutes; the state need not outlive them.
    maxAgeSeconds: 10 * 60,
    secure: config.baseUrl.startsWith("https:"),
  };

  const login = {
    schema: { querystring: query({ next: text(2000).optional() }) },
    config: { access: "public" as const },
  };
  app.get("/login", login, async (request, reply) => {
    const client = oauthClient(config);
    // The home page explains which variables are missing.
    if (!client) return reply.redirect("/");
    const state = issueState(reply, stateCookie);
    reply.setCookie(NEXT_COOKIE, safeReturnPath(request.query.next), {
      ...cookieOptions(config),
      path: "/login",
      signed: true,
      maxAge: stateCookie.maxAgeSeconds,
    });
    return reply.header("cache-control", "no-store").redirect(authorizeUrl(config, client, state));
  });

  const callback = {
    schema: { querystring: query({ code: text(200).optional(), state: text(200).optional() }) },
    config: { access: "public" as const },
  };
  app.get("/login/callback", callback, async (request, reply) => {
    const { code, state } = request.query;
    const client = oauthClient(config);
    reply.header("cache-control", "no-store");
    const stateMatches = takeState(request, reply, stateCookie, state);
    const next = request.unsignCookie(request.cookies[NEXT_COOKIE] ?? "");
    reply.clearCookie(NEXT_COOKIE, { path: "/login" });
    if (!client || !code || !/^[\w-]{1,100}$/.test(code) || !stateMatches) {
      return message(request, reply, 400, {
        title: "Sign in",
        heading: "This sign-in link has expired",
        message: "Sign in again from the home page.",
      });
    }
    try {
      const signIn = await signInWithGitHub(config, client, code);
      // A new session, with a new CSRF token, whatever the browser held before.
      if (request.session) await endSession(database.db, request, reply, config);
      await startSession(database.db, reply, config, signIn, options.now());
      // An installation of theirs this database missed appears once GitHub's list is read.
      await enqueue(options.boss, "reconcileInstallations", {});
      request.log.info(
        { userId: signIn.userId, installations: signIn.installationIds.length },
        "user signed in",
      );
      return reply.redirect(next.valid && next.value ? safeReturnPath(next.value) : "/", 303);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const expired = error instanceof InvalidInputError;
      request.log.warn({ code: error.code, reason: error.message }, "github sign-in failed");
      return message(request, reply, expired ? 400 : 502, {
        title: "Sign in",
        heading: expired ? "This sign-in link has expired" : "GitHub sign-in failed",
        message: "Sign in again from the home page.",
      });
    }
  });

  // "user": a signed-in user's logout carries the session's CSRF token (checked by the gate).
  const logout = { schema: { querystring: noQuery, body: form({}) }, config: { access: "user" as const } };
  app.post("/logout", logout, async (request, reply) => {
    await endSession(database.db, request, reply, config);
    return reply.redirect("/", 303);
  });
}
