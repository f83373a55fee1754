import { bigint, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { type InstallationSettings, defaultInstallationSettings } from "../../settings.js";

export const installations = pgTable("installations", {
  id: bigint("id", { mode: "number" }).primaryKey(),
  accountId: bigint("account_id", { mode: "number" }).notNull(),
  accountLogin: text("account_login").notNull(),
  accountType: text("account_type").$type<"Organization" | "User">().notNull(),
  repositorySelection: text("repository_selection").$type<"all" | "selected">(),
  settings: jsonb("settings").$type<InstallationSettings>().notNull().default(defaultInstallationSettings),
  suspendedAt: timestamp("suspended_at", { withTimezone: true }),
  /** Set once the first backfill of every tracked repository completed and admins were told. */
  firstBackfillNotifiedAt: timestamp("first_backfill_notified_at", { withTimezone: true }),
  /** Last "sync now" for the whole installation (see repositories.manual_sync_requested_at). */
  manualSyncRequestedAt: timestamp("manual_sync_requested_at", { withTimezone: true }),
  deletedAt: timestamp("deleted_at", { withTimezone: true }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export type Installation = typeof installations.$inferSelect;
