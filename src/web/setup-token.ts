import { createHmac } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config.js";
import { isLoopback } from "./loopback.js";
import { cookieOptions } from "./session.js";
import { sameSecret } from "./state-cookie.js";

/**
 * Setup mode registers a GitHub App and switches the deployment to it, so only whoever started the
 * server may finish it: the setup pages want the setup token, printed in the log at start as the
 * link to open. The token then lives in a signed cookie with the manifest flow's state.
 */

export const SETUP_COOKIE = "pr_pulse_setup";
/** GitHub's manifest codes are valid for an hour; so is a setup session. */
const SETUP_COOKIE_MAX_AGE_SECONDS = 3600;

/**
 * The token: an HMAC of the session secret, so replicas sharing SESSION_SECRET print the same
 * link. Without SESSION_SECRET the secret, and so the token, is random per start.
 */
export function setupToken(config: Pick<Config, "sessionSecret">): string {
  return createHmac("sha256", config.sessionSecret)
    .update("pr-pulse setup token")
    .digest("base64url")
    .slice(0, 32);
}

/**
 * The token may be skipped only by a server nobody else can reach: one listening on a loopback
 * address whose BASE_URL is loopback too. A public BASE_URL on a loopback listener is a reverse
 * proxy on the same host, which forwards anyone.
 */
export function isSetupTokenRequired(config: Pick<Config, "host" | "baseUrl">): boolean {
  return !(isLoopback(config.host) && isLoopback(new URL(config.baseUrl).hostname));
}

/** The link printed at start. */
export function setupLink(config: Pick<Config, "sessionSecret" | "host" | "baseUrl">): string {
  return isSetupTokenRequired(config)
    ? `${config.baseUrl}/?token=${setupToken(config)}`
    : `${config.baseUrl}/`;
}

/** What the signed setup cookie holds: the token (empty where none is needed) and the flow's state. */
export interface SetupSession {
  token: string;
  /** The manifest flow's one-time state; empty before the setup page issued one and after its callback. */
  state: string;
}

/** Whether `token` is this deployment's setup token, compared in constant time. */
export function isSetupToken(config: Pick<Config, "sessionSecret">, token: string | undefined): boolean {
  return token !== undefined && sameSecret(token, setupToken(config));
}

export function readSetupSession(request: FastifyRequest): SetupSession | undefined {
  const raw = request.cookies[SETUP_COOKIE];
  if (raw === undefined) return undefined;
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || unsigned.value === null) return undefined;
  const [token = "", state = "", extra] = unsigned.value.split(".");
  return extra === undefined ? { token, state } : undefined;
}

export function writeSetupSession(
  reply: FastifyReply,
  config: Pick<Config, "baseUrl">,
  session: SetupSession,
) {
  // base64url tokens and hex states hold no "."
  reply.setCookie(SETUP_COOKIE, `${session.token}.${session.state}`, {
    ...cookieOptions(config),
    signed: true,
    maxAge: SETUP_COOKIE_MAX_AGE_SECONDS,
  });
}
