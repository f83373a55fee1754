import type { FastifyInstance } from "fastify";
import type { Config } from "../../config.js";
import { AppError, InvalidInputError } from "../../errors.js";
import { authorizeUrl, oauthClient, signInWithGitHub } from "../../github/oauth.js";
import { endSession, startSession } from "../session.js";
import { issueState, takeState, type StateCookie } from "../state-cookie.js";

export interface AuthRouteOptions {
  config: Config;
}

/**
 * "Sign in with GitHub" with the App's OAuth client. A random state in a signed cookie ties the
 * callback to the browser that started the flow; the callback keeps only the installations the
 * user administers, in the session cookie.
 */
export async function authRoutes(app: FastifyInstance, options: AuthRouteOptions) {
  const { config } = options;
  const stateCookie: StateCookie = {
    name: "pr_pulse_oauth_state",
    path: "/login",
    // GitHub's OAuth codes expire after ten minutes; the state need not outlive them.
    maxAgeSeconds: 10 * 60,
    secure: config.baseUrl.startsWith("https:"),
  };

  app.get("/login", async (_request, reply) => {
    const client = oauthClient(config);
    // The home page explains which variables are missing.
    if (!client) return reply.redirect("/");
    const state = issueState(reply, stateCookie);
    return reply.header("cache-control", "no-store").redirect(authorizeUrl(config, client, state));
  });

  app.get<{ Querystring: { code?: string; state?: string } }>("/login/callback", async (request, reply) => {
    const { code, state } = request.query;
    const client = oauthClient(config);
    reply.header("cache-control", "no-store");
    const stateMatches = takeState(request, reply, stateCookie, state);
    if (!client || !code || !/^[\w-]{1,100}$/.test(code) || !stateMatches) {
      return reply.code(400).view("message", {
        title: "Sign in",
        heading: "This sign-in link has expired",
        message: "Sign in again from the home page.",
      });
    }
    try {
      const signIn = await signInWithGitHub(config, client, code);
      startSession(reply, config, signIn);
      request.log.info(
        { userId: signIn.userId, installations: signIn.installationIds.length },
        "user signed in",
      );
      return reply.redirect("/", 303);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const expired = error instanceof InvalidInputError;
      request.log.warn({ code: error.code, reason: error.message }, "github sign-in failed");
      return reply.code(expired ? 400 : 502).view("message", {
        title: "Sign in",
        heading: expired ? "This sign-in link has expired" : "GitHub sign-in failed",
        message: "Sign in again from the home page.",
      });
    }
  });

  app.post("/logout", { preHandler: app.csrfProtection }, async (_request, reply) => {
    endSession(reply, config);
    return reply.redirect("/", 302);
  });
}
