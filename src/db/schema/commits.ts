import { bigint, index, pgTable, text, timestamp, unique } from "drizzle-orm/pg-core";

export const commits = pgTable(
  "commits",
  {
    installationId: bigint("installation_id", { mode: "number" }).notNull(),
    pullRequestId: bigint("pull_request_id", { mode: "number" }).notNull(),
    sha: text("sha").notNull(),
    repoId: bigint("repo_id", { mode: "number" }).notNull(),
    /** The linked GitHub account, when GitHub could match the commit's email to one. */
    authorId: bigint("author_id", { mode: "number" }),
    authorLogin: text("author_login"),
    authorEmail: text("author_email"),
    authorName: text("author_name"),
    message: text("message").notNull(),
    authoredAt: timestamp("authored_at", { withTimezone: true }),
    committedAt: timestamp("committed_at", { withTimezone: true }),
    writtenAt: timestamp("written_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("commits_installation_sha_pr_key").on(t.installationId, t.sha, t.pullRequestId),
    index("commits_pull_request_idx").on(t.installationId, t.pullRequestId),
  ],
);

export type CommitRow = typeof commits.$inferSelect;
export type NewCommitRow = typeof commits.$inferInsert;
