import { bigint, index, integer, pgTable, text } from "drizzle-orm/pg-core";

/**
 * How many stored commits carry each author (linked account, login, lower-cased email, name) of an
 * installation: what the members page groups, instead of every commit. Written only by triggers on
 * commits (db/0013), in the same statement as the commits, so it is exact whoever writes commits.
 * Rows are signed changes, never updated in place: writers only append, so parallel backfills take
 * no lock on a shared author. A key's count is the sum of its rows; compactCommitAuthorCounts
 * (src/db/queries/members.ts) folds them into one row per key.
 */
export const commitAuthorCounts = pgTable(
  "commit_author_counts",
  {
    installationId: bigint("installation_id", { mode: "number" }).notNull(),
    authorId: bigint("author_id", { mode: "number" }),
    authorLogin: text("author_login"),
    /** Lower-cased, null when empty: an "email:" identity's key. */
    authorEmail: text("author_email"),
    authorName: text("author_name"),
    commits: integer("commits").notNull(),
  },
  (t) => [index("commit_author_counts_installation_idx").on(t.installationId)],
);
