import { bigint, boolean, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { installations } from "./installations.js";

export const members = pgTable(
  "members",
  {
    installationId: bigint("installation_id", { mode: "number" })
      .notNull()
      .references(() => installations.id),
    userId: bigint("user_id", { mode: "number" }).notNull(),
    login: text("login").notNull(),
    name: text("name"),
    email: text("email"),
    type: text("type").$type<"User" | "Bot">().notNull().default("User"),
    /** Members who leave are kept, inactive, so their history still has a name. */
    active: boolean("active").notNull().default(true),
    leftAt: timestamp("left_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.installationId, t.userId] })],
);

export type Member = typeof members.$inferSelect;
