import { randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Config } from "../../config.js";
import { AppError, InvalidInputError } from "../../errors.js";
import { authorizeUrl, oauthClient, signInWithGitHub } from "../../github/oauth.js";
import { endSession, startSession } from "../session.js";

export interface AuthRouteOptions {
  config: Config;
}

const STATE_COOKIE = "pr_pulse_oauth_state";
/** GitHub's OAuth codes expire after ten minutes; a state cookie need not outlive them. */
const STATE_TTL_SECONDS = 10 * 60;

function sameToken(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * "Sign in with GitHub" with the App's OAuth client. A random state in a signed cookie ties the
 * callback to the browser that started the flow; the callback keeps only the installations the
 * user administers, in the session cookie.
 */
export async function authRoutes(app: FastifyInstance, options: AuthRouteOptions) {
  const { config } = options;
  const secure = config.baseUrl.startsWith("https:");

  app.get("/login", async (_request, reply) => {
    const client = oauthClient(config);
    // The home page explains which variables are missing.
    if (!client) return reply.redirect("/");
    const state = randomBytes(16).toString("hex");
    reply.setCookie(STATE_COOKIE, state, {
      path: "/login",
      httpOnly: true,
      sameSite: "lax",
      secure,
      signed: true,
      maxAge: STATE_TTL_SECONDS,
    });
    return reply.header("cache-control", "no-store").redirect(authorizeUrl(config, client, state));
  });

  app.get<{ Querystring: { code?: string; state?: string } }>("/login/callback", async (request, reply) => {
    const { code, state } = request.query;
    const cookie = request.unsignCookie(request.cookies[STATE_COOKIE] ?? "");
    const client = oauthClient(config);
    reply.clearCookie(STATE_COOKIE, { path: "/login" }).header("cache-control", "no-store");
    if (
      !client ||
      !code ||
      !/^[\w-]{1,100}$/.test(code) ||
      !state ||
      !cookie.valid ||
      !cookie.value ||
      !sameToken(state, cookie.value)
    ) {
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
