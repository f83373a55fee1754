import { createHash, randomBytes } from "node:crypto";
import type { CookieSerializeOptions } from "@fastify/cookie";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config.js";
import type { Db } from "../db/client.js";
import { createSession, deleteSession, findSession } from "../db/queries/sessions.js";
import type { Session } from "../db/schema/index.js";
import { sameSecret } from "./state-cookie.js";

/**
 * Sign-in sessions live in Postgres (table sessions): the cookie holds a random token, the table
 * its SHA-256. Signing out deletes the row, so a copied cookie stops working at once; every
 * replica reads the same table. Nothing of GitHub's (no token) is kept.
 */

export const SESSION_COOKIE = "pr_pulse_session";
/** A working day; after it the user signs in again. */
export const SESSION_TTL_SECONDS = 8 * 60 * 60;
/** How long the installations a user administers are trusted before GitHub is asked again. */
export const AUTHORIZATION_TTL_MS = 5 * 60 * 1000;
/** Form field and htmx header that carry the session's CSRF token. */
export const CSRF_FIELD = "_csrf";
export const CSRF_HEADER = "x-csrf-token";

declare module "fastify" {
  interface FastifyRequest {
    /** The signed-in user's session in the settings UI; null when signed out. */
    session: Session | null;
  }
}

/** The attributes of every cookie the App sets: http-only, same-site lax, Secure over https. */
export function cookieOptions(config: Pick<Config, "baseUrl">): CookieSerializeOptions {
  return { path: "/", httpOnly: true, sameSite: "lax", secure: config.baseUrl.startsWith("https:") };
}

const digest = (token: string) => createHash("sha256").update(token).digest("hex");

export interface SignedInUser {
  userId: number;
  login: string;
  installationIds: number[];
}

/** A new session (a new CSRF token with it) for a user who just signed in with GitHub. */
export async function startSession(
  db: Db,
  reply: FastifyReply,
  config: Config,
  user: SignedInUser,
  now: Date,
): Promise<void> {
  const token = randomBytes(32).toString("base64url");
  await createSession(
    db,
    {
      id: digest(token),
      userId: user.userId,
      login: user.login,
      csrfToken: randomBytes(32).toString("base64url"),
      installationIds: user.installationIds,
      authorizedAt: now,
      expiresAt: new Date(now.getTime() + SESSION_TTL_SECONDS * 1000),
    },
    now,
  );
  reply.setCookie(SESSION_COOKIE, token, {
    ...cookieOptions(config),
    signed: true,
    maxAge: SESSION_TTL_SECONDS,
  });
}

/** The session the request's cookie names, if its signature is ours and it has not ended. */
export async function loadSession(db: Db, request: FastifyRequest, now: Date): Promise<Session | null> {
  const cookie = request.cookies[SESSION_COOKIE];
  if (!cookie) return null;
  const unsigned = request.unsignCookie(cookie);
  if (!unsigned.valid || !unsigned.value) return null;
  return (await findSession(db, digest(unsigned.value), now)) ?? null;
}

export async function endSession(
  db: Db,
  request: FastifyRequest,
  reply: FastifyReply,
  config: Config,
): Promise<void> {
  if (request.session) await deleteSession(db, request.session.id);
  reply.clearCookie(SESSION_COOKIE, cookieOptions(config));
}

/** The request carries the CSRF token of its own session (form field or htmx header). */
export function hasValidCsrfToken(request: FastifyRequest, session: Session): boolean {
  const body = request.body as Record<string, unknown> | undefined;
  const fromForm = typeof body?.[CSRF_FIELD] === "string" ? (body[CSRF_FIELD] as string) : undefined;
  const header = request.headers[CSRF_HEADER];
  const token = fromForm ?? (typeof header === "string" ? header : undefined);
  return token !== undefined && sameSecret(token, session.csrfToken);
}

/** A same-origin path to come back to after signing in; anything else is replaced by the home page. */
export function safeReturnPath(value: unknown): string {
  if (typeof value !== "string" || value.length > 2000) return "/";
  // "/x" only: not "//host" or "/\host" (both leave the origin), nothing with a scheme.
  return /^\/(?![/\\])[^\s]*$/.test(value) ? value : "/";
}
