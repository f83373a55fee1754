import type { FastifyInstance } from "fastify";
import { encodeSession, SESSION_COOKIE, type Session } from "../../src/web/session.js";

/** A session cookie signed with the server's secret, by name. */
export function sessionCookie(app: FastifyInstance, session: Session): Record<string, string> {
  return { [SESSION_COOKIE]: app.signCookie(encodeSession(session)) };
}

/** A session that ends in an hour (or ended an hour ago, with `expired`). */
export function testSession(patch: Partial<Session> = {}, options: { expired?: boolean } = {}): Session {
  const hour = 3600;
  const now = Math.floor(Date.now() / 1000);
  return {
    userId: 9001,
    login: "octo-admin",
    installationIds: [],
    exp: options.expired ? now - hour : now + hour,
    ...patch,
  };
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

/** The JSON inside a signed session cookie value ("<base64url>.<signature>"). */
export function decodeSessionCookie(value: string): unknown {
  const payload = value.slice(0, value.lastIndexOf("."));
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
}
