import type { Db } from "../../db/client.js";
import { listApiTokens } from "../../db/queries/api-tokens.js";
import { timeView } from "./format.js";

/** The settings page's API tokens section: each token by name and first characters, never the token. */
export async function buildApiTokensView(
  db: Db,
  installationId: number,
  base: string,
  created?: { name: string; token: string },
) {
  const tokens = await listApiTokens(db, installationId);
  return {
    created: created ?? null,
    create: `${base}/api-tokens`,
    apiBase: `/api/v1/installations/${installationId}`,
    tokens: tokens.map((token) => ({
      name: token.name,
      prefix: `${token.prefix}…`,
      createdBy: token.createdByLogin,
      createdAt: timeView(token.createdAt)!.text,
      lastUsedAt: timeView(token.lastUsedAt)?.text ?? "never",
      revokedAt: timeView(token.revokedAt)?.text ?? null,
      revoke: `${base}/api-tokens/${token.id}/revoke`,
    })),
  };
}
