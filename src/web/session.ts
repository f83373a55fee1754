import type { FastifyCsrfProtectionOptions } from "@fastify/csrf-protection";
import type { CookieSerializeOptions } from "@fastify/cookie";
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Config } from "../config.js";
import type { GitHubSignIn } from "../github/oauth.js";

/**
 * Sign-in sessions are stateless: a cookie signed with SESSION_SECRET (by @fastify/cookie) holding
 * who signed in and which installations they administer, checked on every request. Nothing of
 * GitHub's (no token) is in it; signing out, or eight hours, ends it.
 */

export const SESSION_COOKIE = "pr_pulse_session";
export const CSRF_COOKIE = "pr_pulse_csrf";
/** A working day; after it the installation list is re-checked with GitHub by signing in again. */
export const SESSION_TTL_SECONDS = 8 * 60 * 60;

const sessionSchema = z.object({
  userId: z.number().int().positive(),
  login: z.string().min(1),
  installationIds: z.array(z.number().int().positive()),
  /** Expiry, in seconds since the epoch. */
  exp: z.number().int(),
});

export type Session = z.infer<typeof sessionSchema>;

declare module "fastify" {
  interface FastifyRequest {
    /** The verified, unexpired session in the settings UI; null when signed out. */
    session: Session | null;
  }
}

function cookieOptions(config: Config): CookieSerializeOptions {
  return { path: "/", httpOnly: true, sameSite: "lax", secure: config.baseUrl.startsWith("https:") };
}

/** @fastify/csrf-protection keeps its secret in a signed cookie beside the session. */
export function csrfOptions(config: Config): FastifyCsrfProtectionOptions {
  return { cookieKey: CSRF_COOKIE, cookieOpts: { ...cookieOptions(config), signed: true } };
}

export function encodeSession(session: Session): string {
  return Buffer.from(JSON.stringify(session)).toString("base64url");
}

/** The session in the request's cookie if its signature is ours and it has not expired. */
export function readSession(request: FastifyRequest, now = Date.now()): Session | null {
  const cookie = request.cookies[SESSION_COOKIE];
  if (!cookie) return null;
  const unsigned = request.unsignCookie(cookie);
  if (!unsigned.valid || !unsigned.value) return null;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(unsigned.value, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  const parsed = sessionSchema.safeParse(json);
  return parsed.success && parsed.data.exp * 1000 > now ? parsed.data : null;
}

export function startSession(reply: FastifyReply, config: Config, signIn: GitHubSignIn, now = Date.now()) {
  const session: Session = {
    userId: signIn.userId,
    login: signIn.login,
    installationIds: signIn.installationIds,
    exp: Math.floor(now / 1000) + SESSION_TTL_SECONDS,
  };
  reply.setCookie(SESSION_COOKIE, encodeSession(session), {
    ...cookieOptions(config),
    signed: true,
    maxAge: SESSION_TTL_SECONDS,
  });
}

export function endSession(reply: FastifyReply, config: Config) {
  reply.clearCookie(SESSION_COOKIE, cookieOptions(config));
  reply.clearCookie(CSRF_COOKIE, cookieOptions(config));
}
