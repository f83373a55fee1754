import { createHash, randomBytes } from "node:crypto";
import type { Db } from "../db/client.js";
import { useApiToken } from "../db/queries/api-tokens.js";

/**
 * Read-API tokens: "prp_" and 32 random bytes in base64url. The database keeps the SHA-256 and
 * the first characters only (the page tells tokens apart by them), so a leaked table opens nothing.
 */

const TOKEN_PREFIX = "prp_";
/** "prp_" and 6 characters of the random part: 36 bits, enough to tell a handful of tokens apart. */
const SHOWN_LENGTH = TOKEN_PREFIX.length + 6;
const TOKEN = /^prp_[A-Za-z0-9_-]{43}$/;

export const hashApiToken = (token: string) => createHash("sha256").update(token).digest("hex");

/** A new token: the text shown once, and what is stored of it. */
export function generateApiToken(): { token: string; tokenHash: string; prefix: string } {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  return { token, tokenHash: hashApiToken(token), prefix: token.slice(0, SHOWN_LENGTH) };
}

/** The valid token an Authorization header carries ("Bearer prp_…"), its use recorded; else undefined. */
export async function findApiToken(db: Db, authorization: string | undefined, now: Date) {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  const token = match?.[1];
  if (!token || !TOKEN.test(token)) return undefined;
  return useApiToken(db, hashApiToken(token), now);
}
