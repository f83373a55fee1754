import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  date,
  index,
  integer,
  numeric,
  pgTable,
  primaryKey,
  timestamp,
} from "drizzle-orm/pg-core";

/**
 * Weekly aggregates per installation and per repository (repo_id 0 = all repositories of the
 * installation). Weeks start on Monday in the installation's timezone. Refreshed for the affected
 * weeks only, after webhooks and sync pages.
 */
export const weeklyMetrics = pgTable(
  "weekly_metrics",
  {
    installationId: bigint("installation_id", { mode: "number" }).notNull(),
    repoId: bigint("repo_id", { mode: "number" }).notNull(),
    weekStart: date("week_start", { mode: "string" }).notNull(),
    /** True: pull requests opened by bots left out (the default view); false: every pull request. */
    humansOnly: boolean("humans_only").notNull().default(false),
    prsOpened: integer("prs_opened").notNull().default(0),
    prsMerged: integer("prs_merged").notNull().default(0),
    prsClosed: integer("prs_closed").notNull().default(0),
    medianCycleTimeHours: numeric("median_cycle_time_hours", { precision: 12, scale: 2, mode: "number" }),
    p75CycleTimeHours: numeric("p75_cycle_time_hours", { precision: 12, scale: 2, mode: "number" }),
    medianReviewTimeHours: numeric("median_review_time_hours", { precision: 12, scale: 2, mode: "number" }),
    medianCodingPhaseHours: numeric("median_coding_phase_hours", { precision: 12, scale: 2, mode: "number" }),
    medianPickupPhaseHours: numeric("median_pickup_phase_hours", { precision: 12, scale: 2, mode: "number" }),
    medianReviewPhaseHours: numeric("median_review_phase_hours", { precision: 12, scale: 2, mode: "number" }),
    /** The durations above in working hours (pull_requests.*_working_hours). */
    medianCycleTimeWorkingHours: numeric("median_cycle_time_working_hours", {
      precision: 12,
      scale: 2,
      mode: "number",
    }),
    p75CycleTimeWorkingHours: numeric("p75_cycle_time_working_hours", {
      precision: 12,
      scale: 2,
      mode: "number",
    }),
    medianReviewTimeWorkingHours: numeric("median_review_time_working_hours", {
      precision: 12,
      scale: 2,
      mode: "number",
    }),
    medianCodingPhaseWorkingHours: numeric("median_coding_phase_working_hours", {
      precision: 12,
      scale: 2,
      mode: "number",
    }),
    medianPickupPhaseWorkingHours: numeric("median_pickup_phase_working_hours", {
      precision: 12,
      scale: 2,
      mode: "number",
    }),
    medianReviewPhaseWorkingHours: numeric("median_review_phase_working_hours", {
      precision: 12,
      scale: 2,
      mode: "number",
    }),
    /** Lines added plus deleted, median over the week's merged pull requests. */
    medianSizeLines: integer("median_size_lines"),
    reverts: integer("reverts").notNull().default(0),
    /** Reverts by the fixed rule or the installation's revert pattern. */
    revertsWithPattern: integer("reverts_with_pattern").notNull().default(0),
    hotfixes: integer("hotfixes").notNull().default(0),
    additions: integer("additions").notNull().default(0),
    deletions: integer("deletions").notNull().default(0),
    refreshedAt: timestamp("refreshed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.installationId, t.repoId, t.weekStart, t.humansOnly] })],
);

export type WeeklyMetricsRow = typeof weeklyMetrics.$inferSelect;

/**
 * Weeks whose aggregates are out of date: each change adds a mark for the weeks it changed, in the
 * transaction that changed their pull requests, and the installation's debounced weekly-metrics job
 * deletes the marks it listed once it refreshed their weeks. Marks are only ever added, never
 * updated: concurrent writers of one installation's weeks (webhook batches, backfill pages) never
 * wait for each other's row, and a mark committed after the job listed the week is a row the job
 * did not list, so it stays for the next job.
 */
export const weeklyMetricsPending = pgTable(
  "weekly_metrics_pending",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    installationId: bigint("installation_id", { mode: "number" }).notNull(),
    weekStart: date("week_start", { mode: "string" }).notNull(),
    markedAt: timestamp("marked_at", { withTimezone: true, mode: "string" })
      .notNull()
      .default(sql`clock_timestamp()`),
  },
  (t) => [index("weekly_metrics_pending_installation_week_idx").on(t.installationId, t.weekStart)],
);
