import { and, eq, getTableColumns, inArray, notInArray, sql, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { computePullRequestMetrics, type HotfixPatterns } from "../../metrics/pull-request.js";
import type { Db } from "../client.js";
import {
  commits,
  pullRequests,
  reviews,
  type NewCommitRow,
  type NewPullRequestRow,
  type NewReviewRow,
} from "../schema/index.js";

const prColumns = getTableColumns(pullRequests);
type PrKey = keyof typeof prColumns;

// Identity columns never change on conflict; writtenAt is bookkeeping set on every write.
const IMMUTABLE: PrKey[] = ["installationId", "id", "writtenAt"];

function excluded(column: PgColumn): SQL {
  return sql.raw(`excluded."${column.name}"`);
}

/**
 * Inserts or updates pull requests, but never with data older than what is stored (GitHub's
 * updated_at is the version). Keys a row leaves undefined keep their stored value, so a webhook
 * payload without, say, additions does not erase what the GraphQL sync wrote. Rows in one call must
 * carry the same keys. Returns the ids that were written.
 */
export async function upsertPullRequests(db: Db, rows: NewPullRequestRow[]): Promise<number[]> {
  if (rows.length === 0) return [];
  const keys = (Object.keys(rows[0]!) as PrKey[]).filter(
    (key) => !IMMUTABLE.includes(key) && rows[0]![key] !== undefined,
  );
  const set: Record<string, SQL> = { writtenAt: sql`now()` };
  for (const key of keys) set[key] = excluded(prColumns[key]);
  const written = await db
    .insert(pullRequests)
    .values(rows)
    .onConflictDoUpdate({
      target: [pullRequests.installationId, pullRequests.id],
      set,
      setWhere: sql`${pullRequests.updatedAt} <= excluded."updated_at"`,
    })
    .returning({ id: pullRequests.id });
  return written.map((row) => row.id);
}

/** A dismissed review stays dismissed: a late "submitted" or "edited" delivery cannot undo it. */
export async function upsertReviews(db: Db, rows: NewReviewRow[]): Promise<void> {
  for (const chunk of chunks(rows)) await upsertReviewChunk(db, chunk);
}

async function upsertReviewChunk(db: Db, rows: NewReviewRow[]): Promise<void> {
  await db
    .insert(reviews)
    .values(rows)
    .onConflictDoUpdate({
      target: reviews.id,
      set: {
        reviewerId: sql`excluded."reviewer_id"`,
        reviewerLogin: sql`excluded."reviewer_login"`,
        reviewerType: sql`excluded."reviewer_type"`,
        state: sql`excluded."state"`,
        submittedAt: sql`coalesce(excluded."submitted_at", ${reviews.submittedAt})`,
        writtenAt: sql`now()`,
      },
      setWhere: sql`${reviews.state} <> 'dismissed' or excluded."state" = 'dismissed'`,
    });
}

// Postgres takes at most 65,535 bind parameters per statement; 1,000 rows of ~12 columns stays clear.
const ROWS_PER_STATEMENT = 1000;

function chunks<T>(rows: T[]): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT)
    result.push(rows.slice(i, i + ROWS_PER_STATEMENT));
  return result;
}

export async function upsertCommits(db: Db, rows: NewCommitRow[]): Promise<void> {
  for (const chunk of chunks(rows)) await upsertCommitChunk(db, chunk);
}

async function upsertCommitChunk(db: Db, rows: NewCommitRow[]): Promise<void> {
  await db
    .insert(commits)
    .values(rows)
    .onConflictDoUpdate({
      target: [commits.installationId, commits.sha, commits.pullRequestId],
      set: {
        authorId: sql`excluded."author_id"`,
        authorLogin: sql`excluded."author_login"`,
        authorEmail: sql`excluded."author_email"`,
        authorName: sql`excluded."author_name"`,
        message: sql`excluded."message"`,
        authoredAt: sql`excluded."authored_at"`,
        committedAt: sql`excluded."committed_at"`,
        writtenAt: sql`now()`,
      },
    });
}

/** After a complete commit list was fetched: commits force-pushed away are no longer the PR's. */
export async function deleteCommitsNotIn(
  db: Db,
  installationId: number,
  pullRequestId: number,
  shas: string[],
): Promise<void> {
  const conditions = [eq(commits.installationId, installationId), eq(commits.pullRequestId, pullRequestId)];
  if (shas.length > 0) conditions.push(notInArray(commits.sha, shas));
  await db.delete(commits).where(and(...conditions));
}

export async function findPullRequest(db: Db, installationId: number, id: number) {
  const [row] = await db
    .select()
    .from(pullRequests)
    .where(and(eq(pullRequests.installationId, installationId), eq(pullRequests.id, id)));
  return row;
}

/**
 * Recomputes the derived columns of pull requests from what is stored: used after a webhook
 * changed a pull request or one of its reviews.
 */
export async function recomputePullRequestMetrics(
  db: Db,
  installationId: number,
  ids: number[],
  patterns: HotfixPatterns,
): Promise<void> {
  if (ids.length === 0) return;
  const prs = await db
    .select()
    .from(pullRequests)
    .where(and(eq(pullRequests.installationId, installationId), inArray(pullRequests.id, ids)));
  const reviewRows = await db
    .select()
    .from(reviews)
    .where(and(eq(reviews.installationId, installationId), inArray(reviews.pullRequestId, ids)));
  const commitRows = await db
    .select({
      pullRequestId: commits.pullRequestId,
      message: commits.message,
      authoredAt: commits.authoredAt,
      committedAt: commits.committedAt,
    })
    .from(commits)
    .where(and(eq(commits.installationId, installationId), inArray(commits.pullRequestId, ids)));
  for (const pr of prs) {
    const metrics = computePullRequestMetrics(
      {
        ...pr,
        reviews: reviewRows.filter((review) => review.pullRequestId === pr.id),
        commits: commitRows.filter((commit) => commit.pullRequestId === pr.id),
      },
      patterns,
    );
    await db
      .update(pullRequests)
      .set(metrics)
      .where(and(eq(pullRequests.installationId, installationId), eq(pullRequests.id, pr.id)));
  }
}
