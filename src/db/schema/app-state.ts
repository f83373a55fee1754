import { jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Small facts about the deployment as a whole, by key, shared by every replica: the App
 * registration of setup mode, where the redelivery scan stopped.
 */
export const appState = pgTable("app_state", {
  key: text("key").primaryKey(),
  value: jsonb("value").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export type AppStateRow = typeof appState.$inferSelect;
