import { bigint, boolean, index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import type { SyncDepth } from "../../settings.js";
import { installations } from "./installations.js";

export type SyncStatus = "pending" | "queued" | "syncing" | "paused_rate_limited" | "complete" | "error";

export const repositories = pgTable(
  "repositories",
  {
    id: bigint("id", { mode: "number" }).primaryKey(),
    installationId: bigint("installation_id", { mode: "number" })
      .notNull()
      .references(() => installations.id),
    nodeId: text("node_id"),
    fullName: text("full_name").notNull(),
    private: boolean("private").notNull().default(false),
    archived: boolean("archived").notNull().default(false),
    defaultBranch: text("default_branch"),
    /** Untracking is a soft delete: the repository's pull requests stay. */
    tracked: boolean("tracked").notNull().default(false),
    syncDepth: text("sync_depth").$type<SyncDepth>(),
    /** GitHub's pushed_at (or the last pull request event): the repositories page sorts by it. */
    lastActivityAt: timestamp("last_activity_at", { withTimezone: true }),
    /** Set when the App lost access (removed from the installation, or deleted on GitHub). */
    removedAt: timestamp("removed_at", { withTimezone: true }),
    syncStatus: text("sync_status").$type<SyncStatus>().notNull().default("pending"),
    prsTotal: integer("prs_total"),
    prsDone: integer("prs_done").notNull().default(0),
    /** Oldest PR creation time the backfill has fully covered; deepening fetches only what is older. */
    backfilledSince: timestamp("backfilled_since", { withTimezone: true }),
    backfillCursor: text("backfill_cursor"),
    /** Newest GitHub updated_at fully synced: the delta sync stops there. */
    watermark: timestamp("watermark", { withTimezone: true }),
    syncStartedAt: timestamp("sync_started_at", { withTimezone: true }),
    /** prs_done when the current run started: the ETA counts only this run's pull requests. */
    runPrsStart: integer("run_prs_start").notNull().default(0),
    /** Seconds this run spent paused by GitHub's rate limit: the ETA leaves them out. */
    runPausedSeconds: integer("run_paused_seconds").notNull().default(0),
    pausedAt: timestamp("paused_at", { withTimezone: true }),
    syncFinishedAt: timestamp("sync_finished_at", { withTimezone: true }),
    lastSuccessfulSyncAt: timestamp("last_successful_sync_at", { withTimezone: true }),
    pausedUntil: timestamp("paused_until", { withTimezone: true }),
    /** GraphQL page size: halved when GitHub times out on a big page, grown back on success. */
    pageSize: integer("page_size").notNull().default(50),
    /**
     * Set when pull request deliveries of this repository were lost (the app was down): the next
     * delta sync of the installation includes it, and clears this once it has run.
     */
    deltaRequestedAt: timestamp("delta_requested_at", { withTimezone: true }),
    /** Changes the last delta sync found that webhooks had not delivered. */
    lastDriftCount: integer("last_drift_count"),
    /** Last "sync now" an admin asked for: requests closer together than the cooldown are refused. */
    manualSyncRequestedAt: timestamp("manual_sync_requested_at", { withTimezone: true }),
    lastError: text("last_error"),
    lastErrorCode: text("last_error_code"),
    failureCount: integer("failure_count").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("repositories_installation_idx").on(t.installationId),
    index("repositories_installation_activity_idx").on(t.installationId, t.lastActivityAt.desc()),
  ],
);

export type Repository = typeof repositories.$inferSelect;
