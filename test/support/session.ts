import { createHash, randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Database } from "../../src/db/client.js";
import { createSession } from "../../src/db/queries/sessions.js";
import { SESSION_COOKIE } from "../../src/web/session.js";

export interface TestSession {
  /** The `cookie` request header of the signed-in browser. */
  cookie: string;
  csrfToken: string;
  userId: number;
  login: string;
}

/**
 * A signed-in user, as a completed sign-in leaves them: a session row and the browser's signed
 * cookie. `authorizedAt` defaults to now (no check with GitHub for five minutes).
 */
export async function signedIn(
  database: Pick<Database, "db">,
  server: FastifyInstance,
  user: { userId?: number; login?: string; installationIds: number[]; authorizedAt?: Date; expiresAt?: Date },
): Promise<TestSession> {
  const token = randomBytes(32).toString("base64url");
  const csrfToken = randomBytes(16).toString("hex");
  const now = new Date();
  const userId = user.userId ?? 9001;
  const login = user.login ?? "octo-admin";
  await createSession(
    database.db,
    {
      id: createHash("sha256").update(token).digest("hex"),
      userId,
      login,
      csrfToken,
      installationIds: user.installationIds,
      authorizedAt: user.authorizedAt ?? now,
      expiresAt: user.expiresAt ?? new Date(now.getTime() + 3600_000),
    },
    now,
  );
  return { cookie: cookieHeader({ [SESSION_COOKIE]: server.signCookie(token) }), csrfToken, userId, login };
}

export interface SetCookie {
  /** Decoded; empty when the cookie is cleared. */
  value: string;
  /** Lower-cased attribute names; flags such as HttpOnly are `true`. */
  attributes: Record<string, string | true>;
}

/** The cookies a response set, by name. */
export function setCookies(response: Response): Record<string, SetCookie> {
  const cookies: Record<string, SetCookie> = {};
  for (const header of response.headers.getSetCookie()) {
    const [pair = "", ...parts] = header.split(";");
    const separator = pair.indexOf("=");
    const attributes: Record<string, string | true> = {};
    for (const part of parts) {
      const [key = "", ...value] = part.trim().split("=");
      attributes[key.toLowerCase()] = value.length > 0 ? value.join("=") : true;
    }
    cookies[pair.slice(0, separator).trim()] = {
      value: decodeURIComponent(pair.slice(separator + 1).trim()),
      attributes,
    };
  }
  return cookies;
}

/** A `cookie` request header, values encoded as the server's Set-Cookie encodes them. */
export function cookieHeader(cookies: Record<string, string>): string {
  return Object.entries(cookies)
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
    .join("; ");
}
