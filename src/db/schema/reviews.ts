import { bigint, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";

export type ReviewState = "approved" | "changes_requested" | "commented" | "dismissed" | "pending";

export const reviews = pgTable(
  "reviews",
  {
    id: bigint("id", { mode: "number" }).primaryKey(),
    installationId: bigint("installation_id", { mode: "number" }).notNull(),
    pullRequestId: bigint("pull_request_id", { mode: "number" }).notNull(),
    repoId: bigint("repo_id", { mode: "number" }).notNull(),
    reviewerId: bigint("reviewer_id", { mode: "number" }),
    reviewerLogin: text("reviewer_login"),
    reviewerType: text("reviewer_type"),
    state: text("state").$type<ReviewState>().notNull(),
    submittedAt: timestamp("submitted_at", { withTimezone: true }),
    writtenAt: timestamp("written_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("reviews_pull_request_idx").on(t.installationId, t.pullRequestId),
    // Review load reads the reviews submitted in a range of weeks.
    index("reviews_installation_submitted_idx").on(t.installationId, t.submittedAt),
  ],
);

export type ReviewRow = typeof reviews.$inferSelect;
export type NewReviewRow = typeof reviews.$inferInsert;
