import { bigint, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Matches of commit identities to members made by an admin. They win over the automatic match
 * (GitHub's linked account, then email) and survive every sync. A row without a member is an
 * explicit "not this member": the identity stays unmatched.
 */
export const identityMatches = pgTable(
  "identity_matches",
  {
    installationId: bigint("installation_id", { mode: "number" }).notNull(),
    /** "email:<lower-cased email>" or "id:<GitHub user id>". */
    identity: text("identity").notNull(),
    memberUserId: bigint("member_user_id", { mode: "number" }),
    matchedByUserId: bigint("matched_by_user_id", { mode: "number" }).notNull(),
    matchedAt: timestamp("matched_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.installationId, t.identity] })],
);

export type IdentityMatch = typeof identityMatches.$inferSelect;
