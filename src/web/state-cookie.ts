import { randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * A one-time random state in a signed, http-only cookie, compared in constant time when the flow
 * comes back: what ties an OAuth or manifest callback to the browser that started it.
 */
export interface StateCookie {
  name: string;
  /** The only path the cookie is sent to. */
  path: string;
  maxAgeSeconds: number;
  secure: boolean;
}

/** Sets a new state and returns it, for the URL that leaves for GitHub. */
export function issueState(reply: FastifyReply, cookie: StateCookie): string {
  const state = randomBytes(16).toString("hex");
  reply.setCookie(cookie.name, state, {
    path: cookie.path,
    httpOnly: true,
    sameSite: "lax",
    secure: cookie.secure,
    signed: true,
    maxAge: cookie.maxAgeSeconds,
  });
  return state;
}

/** True when `state` is the one this browser's signed cookie holds. The cookie is cleared either way. */
export function takeState(
  request: FastifyRequest,
  reply: FastifyReply,
  cookie: StateCookie,
  state: string | undefined,
): boolean {
  const stored = request.unsignCookie(request.cookies[cookie.name] ?? "");
  reply.clearCookie(cookie.name, { path: cookie.path });
  return Boolean(state && stored.valid && stored.value && sameSecret(state, stored.value));
}

/** Constant-time comparison of two secrets (length-checked first, which leaks only the length). */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
