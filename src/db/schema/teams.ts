import { bigint, index, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { installations } from "./installations.js";

/**
 * The organization's teams on GitHub, keyed by GitHub's team id. Kept equal to GitHub by the members
 * sync and the `team` webhooks; a team deleted on GitHub is deleted here (with its memberships):
 * teams say who belongs together now, not who did then.
 */
export const teams = pgTable(
  "teams",
  {
    installationId: bigint("installation_id", { mode: "number" })
      .notNull()
      .references(() => installations.id),
    id: bigint("id", { mode: "number" }).notNull(),
    nodeId: text("node_id"),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    /** GitHub's id of the parent team; null for a team at the top. */
    parentId: bigint("parent_id", { mode: "number" }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.installationId, t.id] })],
);

/**
 * Who is an immediate member of which team (GitHub's `membership: IMMEDIATE`). Members of a child
 * team count for its parents too: that closure is computed from these rows and the teams' parents
 * when read (src/db/queries/teams.ts), so a re-parented team moves its members with it at once.
 */
export const teamMembers = pgTable(
  "team_members",
  {
    installationId: bigint("installation_id", { mode: "number" }).notNull(),
    teamId: bigint("team_id", { mode: "number" }).notNull(),
    userId: bigint("user_id", { mode: "number" }).notNull(),
    login: text("login").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.installationId, t.teamId, t.userId] }),
    index("team_members_user_idx").on(t.installationId, t.userId),
  ],
);

export type Team = typeof teams.$inferSelect;
export type TeamMember = typeof teamMembers.$inferSelect;
