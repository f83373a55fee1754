import { bigint, bigserial, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { installations } from "./installations.js";

/**
 * Tokens of the read API (/api/v1), one installation's each: an admin creates one on the settings
 * page, sees it once, and can revoke it there. Only the token's SHA-256 is stored, as for sessions;
 * the first characters are kept to tell tokens apart on the page.
 */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    installationId: bigint("installation_id", { mode: "number" })
      .notNull()
      .references(() => installations.id),
    name: text("name").notNull(),
    /** SHA-256 (hex) of the token. */
    tokenHash: text("token_hash").notNull().unique(),
    /** The token's first characters, shown on the settings page (not enough to guess the rest). */
    prefix: text("prefix").notNull(),
    /** GitHub user id and login of the admin who created it. */
    createdById: bigint("created_by_id", { mode: "number" }).notNull(),
    createdByLogin: text("created_by_login").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [index("api_tokens_installation_idx").on(t.installationId)],
);

export type ApiToken = typeof apiTokens.$inferSelect;
