import {
  bigint,
  boolean,
  index,
  integer,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { installations } from "./installations.js";

export type PullRequestState = "open" | "closed" | "merged";

export const pullRequests = pgTable(
  "pull_requests",
  {
    installationId: bigint("installation_id", { mode: "number" })
      .notNull()
      .references(() => installations.id),
    id: bigint("id", { mode: "number" }).notNull(),
    nodeId: text("node_id"),
    repoId: bigint("repo_id", { mode: "number" }).notNull(),
    number: integer("number").notNull(),
    title: text("title").notNull(),
    body: text("body"),
    state: text("state").$type<PullRequestState>().notNull(),
    draft: boolean("draft").notNull().default(false),
    authorId: bigint("author_id", { mode: "number" }),
    authorLogin: text("author_login"),
    authorType: text("author_type"),
    headRef: text("head_ref").notNull(),
    baseRef: text("base_ref").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    /** GitHub's updated_at of the data this row was last written from: the freshness guard. */
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull(),
    closedAt: timestamp("closed_at", { withTimezone: true }),
    mergedAt: timestamp("merged_at", { withTimezone: true }),
    readyForReviewAt: timestamp("ready_for_review_at", { withTimezone: true }),
    firstCommitAt: timestamp("first_commit_at", { withTimezone: true }),
    firstReviewAt: timestamp("first_review_at", { withTimezone: true }),
    /** Who gave that first review (GitHub user id): review load counts it for their teams. */
    firstReviewerId: bigint("first_reviewer_id", { mode: "number" }),
    additions: integer("additions"),
    deletions: integer("deletions"),
    changedFiles: integer("changed_files"),
    commitsCount: integer("commits_count"),
    /** GitHub lists at most 250 commits for a pull request; more than that is recorded, not hidden. */
    commitsTruncated: boolean("commits_truncated").notNull().default(false),
    isRevert: boolean("is_revert").notNull().default(false),
    isHotfix: boolean("is_hotfix").notNull().default(false),
    cycleTimeHours: numeric("cycle_time_hours", { precision: 12, scale: 2, mode: "number" }),
    reviewTimeHours: numeric("review_time_hours", { precision: 12, scale: 2, mode: "number" }),
    /** Cycle time in three phases: first commit → ready for review (or creation). */
    codingPhaseHours: numeric("coding_phase_hours", { precision: 12, scale: 2, mode: "number" }),
    /** Ready for review (or creation) → first review. */
    pickupPhaseHours: numeric("pickup_phase_hours", { precision: 12, scale: 2, mode: "number" }),
    /** First review → merge. */
    reviewPhaseHours: numeric("review_phase_hours", { precision: 12, scale: 2, mode: "number" }),
    /**
     * The same five durations in working hours: the time of each interval inside the installation's
     * working hours (src/metrics/working-hours.ts), recomputed when those settings change.
     */
    cycleTimeWorkingHours: numeric("cycle_time_working_hours", { precision: 12, scale: 2, mode: "number" }),
    reviewTimeWorkingHours: numeric("review_time_working_hours", { precision: 12, scale: 2, mode: "number" }),
    codingPhaseWorkingHours: numeric("coding_phase_working_hours", {
      precision: 12,
      scale: 2,
      mode: "number",
    }),
    pickupPhaseWorkingHours: numeric("pickup_phase_working_hours", {
      precision: 12,
      scale: 2,
      mode: "number",
    }),
    reviewPhaseWorkingHours: numeric("review_phase_working_hours", {
      precision: 12,
      scale: 2,
      mode: "number",
    }),
    /** The title matches the installation's own revert pattern (is_revert keeps the fixed rule). */
    revertPatternMatch: boolean("revert_pattern_match").notNull().default(false),
    /**
     * The pull request's label names as GitHub last told (null: not yet known, as for rows written
     * before labels were stored). Kept current by the sync and by labeled/unlabeled deliveries.
     */
    labels: text("labels").array(),
    /**
     * Why the installation's exclusion settings leave this pull request out of every figure
     * (src/metrics/exclusions.ts), e.g. "label: skip-metrics"; null: it counts. Recomputed with the
     * other derived values when settings change.
     */
    excludedReason: text("excluded_reason"),
    /** When reviews and commits were last fetched in full from GitHub (null: only webhook data). */
    detailsSyncedAt: timestamp("details_synced_at", { withTimezone: true }),
    writtenAt: timestamp("written_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.installationId, t.id] }),
    index("pull_requests_repo_number_idx").on(t.repoId, t.number),
    index("pull_requests_installation_created_idx").on(t.installationId, t.createdAt),
    index("pull_requests_installation_merged_idx").on(t.installationId, t.mergedAt),
    // A team's figures read its members' pull requests.
    index("pull_requests_installation_author_idx").on(t.installationId, t.authorId),
  ],
);

export type PullRequestRow = typeof pullRequests.$inferSelect;
export type NewPullRequestRow = typeof pullRequests.$inferInsert;
