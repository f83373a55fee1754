import { bigint, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Sign-in sessions of the settings UI, server-side so that signing out ends them. The browser's
 * cookie holds a random token; only its SHA-256 is stored. The installations the user administers
 * are cached here; each is checked with GitHub again after a few minutes and before any change, and
 * the whole list when the home page shows it after a few minutes.
 */
export const sessions = pgTable(
  "sessions",
  {
    /** SHA-256 (hex) of the cookie's token. */
    id: text("id").primaryKey(),
    userId: bigint("user_id", { mode: "number" }).notNull(),
    login: text("login").notNull(),
    /** Bound to this session: forms and htmx requests carry it. */
    csrfToken: text("csrf_token").notNull(),
    installationIds: bigint("installation_ids", { mode: "number" }).array().notNull().default([]),
    /** When installationIds were last confirmed with GitHub, as a whole. */
    authorizedAt: timestamp("authorized_at", { withTimezone: true }).notNull(),
    /**
     * When each installation (by id) was last confirmed with GitHub on its own since then (ISO 8601):
     * a page or form checks only the installation it names.
     */
    installationChecks: jsonb("installation_checks").$type<Record<string, string>>().notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("sessions_expires_idx").on(t.expiresAt)],
);

export type Session = typeof sessions.$inferSelect;
