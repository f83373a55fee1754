import { and, eq, getTableColumns, inArray, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { anyOf } from "./any-of.js";
import {
  commits,
  pullRequests,
  repositories,
  reviews,
  type NewCommitRow,
  type NewPullRequestRow,
  type NewReviewRow,
} from "../schema/index.js";

const prColumns = getTableColumns(pullRequests);
type PrKey = keyof typeof prColumns;

// Identity columns never change on conflict; writtenAt is bookkeeping set on every write.
const IMMUTABLE: PrKey[] = ["installationId", "id", "writtenAt"];

/**
 * Inserts or updates pull requests, but never with data older than what is stored (GitHub's
 * updated_at is the version). Keys a row leaves undefined keep their stored value, so a webhook
 * payload without, say, additions does not erase what the GraphQL sync wrote. Returns the ids that
 * were written.
 */
export async function upsertPullRequests(db: Db, rows: NewPullRequestRow[]): Promise<number[]> {
  return (await upsertPullRequestKeys(db, rows)).map((row) => row.id);
}

/**
 * upsertPullRequests for rows of several installations (a batch of webhook deliveries): returns
 * the (installation, id) keys that were written. Rows are written in key order, so two batches
 * sharing pull requests lock them in the same order and never deadlock.
 *
 * Rows may leave different keys undefined (a review's payload carries no sizes, only a
 * ready_for_review event sets its moment): such a key is written where a row has it and kept where
 * it does not. Only nullable columns without a default may vary so, and a row may not set one to
 * null: in one statement, null is how a row says "keep the stored value".
 */
export async function upsertPullRequestKeys(
  db: Db,
  rows: NewPullRequestRow[],
): Promise<{ installationId: number; id: number }[]> {
  if (rows.length === 0) return [];
  const defined = (row: NewPullRequestRow, key: PrKey) => row[key] !== undefined;
  const keys = (Object.keys(prColumns) as PrKey[]).filter(
    (key) => key !== "writtenAt" && rows.some((row) => defined(row, key)),
  );
  const varying = keys.filter((key) => !rows.every((row) => defined(row, key)));
  for (const key of varying) assertKeepable(key, rows);
  const name = (key: PrKey) => `"${prColumns[key].name}"`;
  const columns = sql.raw(keys.map(name).join(", "));
  const record = sql.raw(keys.map((key) => `${name(key)} ${prColumns[key].getSQLType()}`).join(", "));
  const set = sql.raw(
    [
      ...keys
        .filter((key) => !IMMUTABLE.includes(key))
        .map((key) =>
          varying.includes(key)
            ? `${name(key)} = coalesce(excluded.${name(key)}, pr.${name(key)})`
            : `${name(key)} = excluded.${name(key)}`,
        ),
      `"written_at" = now()`,
    ].join(", "),
  );
  const sorted = [...rows].sort((a, b) => a.installationId - b.installationId || a.id - b.id);
  // One jsonb parameter, however many rows: a statement text the connection has prepared before,
  // and no per-value query building. Text is clean (src/text.ts), as everything from GitHub is.
  const values = JSON.stringify(
    sorted.map((row) => Object.fromEntries(keys.map((key) => [prColumns[key].name, row[key] ?? null]))),
  );
  const written = await db.execute<{
    installation_id: string;
    id: string;
  }>(sql`insert into ${pullRequests} as pr (${columns})
    select ${columns} from jsonb_to_recordset(${values}::jsonb) as x(${record})
    on conflict (installation_id, id) do update set ${set}
    where pr.updated_at <= excluded.updated_at
    returning pr.installation_id, pr.id`);
  return [...written].map((row) => ({ installationId: Number(row.installation_id), id: Number(row.id) }));
}

/** A key rows may leave undefined: inserted as null (not a default) and kept on update. */
function assertKeepable(key: PrKey, rows: NewPullRequestRow[]): void {
  const column = prColumns[key];
  if (column.notNull || column.hasDefault || rows.some((row) => row[key] === null)) {
    throw new Error(`pull request rows of one statement must agree on whether they set ${key}`);
  }
}

/**
 * A dismissed review stays dismissed: a late "submitted" or "edited" delivery cannot undo it.
 * Written in id order, so concurrent writers of the same reviews never deadlock.
 */
export async function upsertReviews(db: Db, rows: NewReviewRow[]): Promise<void> {
  const sorted = [...rows].sort((a, b) => a.id - b.id);
  for (const chunk of chunks(sorted)) await upsertReviewChunk(db, chunk);
}

/** What is stored of these reviews: what a later delivery may change (see upsertReviews). */
export async function findStoredReviews(db: Db, ids: number[]) {
  if (ids.length === 0) return new Map<number, StoredReview>();
  const rows = await db
    .select({ id: reviews.id, state: reviews.state, submittedAt: reviews.submittedAt })
    .from(reviews)
    .where(anyOf(reviews.id, [...new Set(ids)]));
  return new Map(rows.map(({ id, ...review }) => [id, review]));
}

export type StoredReview = Pick<NewReviewRow, "state" | "submittedAt">;

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

/**
 * After complete commit lists were fetched: commits force-pushed away are no longer their pull
 * request's. One statement for any number of pull requests.
 */
export async function replaceCommitLists(
  db: Db,
  installationId: number,
  lists: { pullRequestId: number; shas: string[] }[],
): Promise<void> {
  if (lists.length === 0) return;
  // bigint arrays travel as text: the driver's int8 serializer takes strings.
  const prIds = lists.map((list) => String(list.pullRequestId));
  const keepPr = lists.flatMap((list) => list.shas.map(() => String(list.pullRequestId)));
  const keepSha = lists.flatMap((list) => list.shas);
  await db.execute(sql`
    delete from ${commits} c
    where c.installation_id = ${installationId}
      and c.pull_request_id = any(${sql.param(prIds)}::bigint[])
      and (c.pull_request_id, c.sha) not in (
        select * from unnest(${sql.param(keepPr)}::bigint[], ${sql.param(keepSha)}::text[])
      )`);
}

/** What is stored of these pull requests: the version, and the dates weekly aggregates count by. */
export async function findStoredPullRequests(db: Db, installationId: number, ids: number[]) {
  if (ids.length === 0) return [];
  return db
    .select({
      id: pullRequests.id,
      updatedAt: pullRequests.updatedAt,
      createdAt: pullRequests.createdAt,
      mergedAt: pullRequests.mergedAt,
      closedAt: pullRequests.closedAt,
      firstReviewAt: pullRequests.firstReviewAt,
    })
    .from(pullRequests)
    .where(and(eq(pullRequests.installationId, installationId), anyOf(pullRequests.id, ids)));
}

/** Review ids and commit (pull request, sha) pairs already stored for these pull requests. */
export async function findStoredDetails(db: Db, installationId: number, ids: number[]) {
  if (ids.length === 0) return { reviewIds: new Set<number>(), commitKeys: new Set<string>() };
  const storedReviews = await db
    .select({ id: reviews.id })
    .from(reviews)
    .where(and(eq(reviews.installationId, installationId), inArray(reviews.pullRequestId, ids)));
  const storedCommits = await db
    .select({ pullRequestId: commits.pullRequestId, sha: commits.sha })
    .from(commits)
    .where(and(eq(commits.installationId, installationId), inArray(commits.pullRequestId, ids)));
  return {
    reviewIds: new Set(storedReviews.map((row) => row.id)),
    commitKeys: new Set(storedCommits.map((row) => `${row.pullRequestId}:${row.sha}`)),
  };
}

/** Pull requests with their stored reviews and commits: the inputs of their derived columns. */
export async function loadPullRequestsWithDetails(db: Db, installationId: number, ids: number[]) {
  if (ids.length === 0) return [];
  // Sent together: in a transaction, postgres.js pipelines them into one round trip.
  const [prs, reviewRows, commitRows] = await Promise.all([
    db
      .select()
      .from(pullRequests)
      .where(and(eq(pullRequests.installationId, installationId), anyOf(pullRequests.id, ids))),
    db
      .select()
      .from(reviews)
      .where(and(eq(reviews.installationId, installationId), anyOf(reviews.pullRequestId, ids))),
    db
      .select({
        pullRequestId: commits.pullRequestId,
        message: commits.message,
        authoredAt: commits.authoredAt,
        committedAt: commits.committedAt,
      })
      .from(commits)
      .where(and(eq(commits.installationId, installationId), anyOf(commits.pullRequestId, ids))),
  ]);
  return prs.map((pr) => ({
    ...pr,
    reviews: reviewRows.filter((review) => review.pullRequestId === pr.id),
    commits: commitRows.filter((commit) => commit.pullRequestId === pr.id),
  }));
}

export type DerivedPullRequestColumns = Pick<
  NewPullRequestRow,
  | "firstReviewAt"
  | "firstCommitAt"
  | "cycleTimeHours"
  | "reviewTimeHours"
  | "codingPhaseHours"
  | "pickupPhaseHours"
  | "reviewPhaseHours"
  | "isRevert"
  | "revertPatternMatch"
  | "isHotfix"
>;

/** Writes recomputed derived columns of any number of pull requests in one statement. */
export async function updatePullRequestMetrics(
  db: Db,
  installationId: number,
  updates: { id: number; metrics: Required<DerivedPullRequestColumns> }[],
): Promise<void> {
  if (updates.length === 0) return;
  // One jsonb parameter typed by jsonb_to_recordset: dates, numerics and booleans keep their types.
  const values = JSON.stringify(updates.map(({ id, metrics }) => ({ id, ...metricsJson(metrics) })));
  await db.execute(sql`
    update ${pullRequests} pr set
      first_review_at = v.first_review_at, first_commit_at = v.first_commit_at,
      cycle_time_hours = v.cycle_time_hours, review_time_hours = v.review_time_hours,
      coding_phase_hours = v.coding_phase_hours, pickup_phase_hours = v.pickup_phase_hours,
      review_phase_hours = v.review_phase_hours, is_revert = v.is_revert,
      revert_pattern_match = v.revert_pattern_match, is_hotfix = v.is_hotfix
    from jsonb_to_recordset(${values}::jsonb) as v(
      id bigint, first_review_at timestamptz, first_commit_at timestamptz,
      cycle_time_hours numeric, review_time_hours numeric, coding_phase_hours numeric,
      pickup_phase_hours numeric, review_phase_hours numeric, is_revert boolean,
      revert_pattern_match boolean, is_hotfix boolean)
    where pr.installation_id = ${installationId} and pr.id = v.id`);
}

/** The derived columns under their SQL names (every one: a column left out would be written null). */
function metricsJson(metrics: Required<DerivedPullRequestColumns>) {
  return {
    first_review_at: metrics.firstReviewAt,
    first_commit_at: metrics.firstCommitAt,
    cycle_time_hours: metrics.cycleTimeHours,
    review_time_hours: metrics.reviewTimeHours,
    coding_phase_hours: metrics.codingPhaseHours,
    pickup_phase_hours: metrics.pickupPhaseHours,
    review_phase_hours: metrics.reviewPhaseHours,
    is_revert: metrics.isRevert,
    revert_pattern_match: metrics.revertPatternMatch,
    is_hotfix: metrics.isHotfix,
  };
}

/** The weeks (Mondays in `timeZone`) the repositories' pull requests count in. */
export async function weeksOfRepositories(
  db: Db,
  installationId: number,
  repoIds: number[],
  timeZone: string,
): Promise<string[]> {
  if (repoIds.length === 0) return [];
  return weeksCountedIn(db, installationId, timeZone, repoIds);
}

/** Deletes the repositories' pull requests with their reviews and commits. */
export async function deleteRepositoryData(
  db: Db,
  installationId: number,
  repoIds: number[],
): Promise<number> {
  if (repoIds.length === 0) return 0;
  const ids = sql.param(repoIds.map(String));
  await db.execute(
    sql`delete from ${commits} where installation_id = ${installationId} and repo_id = any(${ids}::bigint[])`,
  );
  await db.execute(
    sql`delete from ${reviews} where installation_id = ${installationId} and repo_id = any(${ids}::bigint[])`,
  );
  const deleted = await db
    .delete(pullRequests)
    .where(and(eq(pullRequests.installationId, installationId), inArray(pullRequests.repoId, repoIds)))
    .returning({ id: pullRequests.id });
  return deleted.length;
}

/** The installation's most recently opened pull requests, for previewing patterns on them. */
export async function listRecentPullRequests(db: Db, installationId: number, limit: number) {
  return db
    .select({
      id: pullRequests.id,
      number: pullRequests.number,
      title: pullRequests.title,
      headRef: pullRequests.headRef,
      body: pullRequests.body,
      repository: repositories.fullName,
      isHotfix: pullRequests.isHotfix,
      isRevert: pullRequests.isRevert,
      revertPatternMatch: pullRequests.revertPatternMatch,
    })
    .from(pullRequests)
    .innerJoin(repositories, eq(repositories.id, pullRequests.repoId))
    .where(eq(pullRequests.installationId, installationId))
    .orderBy(sql`${pullRequests.createdAt} desc`)
    .limit(limit);
}

/** Ids of the installation's pull requests after `afterId`, in id order: batches for a full pass. */
export async function pullRequestIdsAfter(
  db: Db,
  installationId: number,
  afterId: number,
  limit: number,
): Promise<number[]> {
  const rows = await db
    .select({ id: pullRequests.id })
    .from(pullRequests)
    .where(and(eq(pullRequests.installationId, installationId), sql`${pullRequests.id} > ${afterId}`))
    .orderBy(pullRequests.id)
    .limit(limit);
  return rows.map((row) => row.id);
}

/** Every week the installation's stored pull requests count in (Mondays in `timeZone`). */
export async function weeksOfInstallation(
  db: Db,
  installationId: number,
  timeZone: string,
): Promise<string[]> {
  return weeksCountedIn(db, installationId, timeZone);
}

/** The weeks a pull request counts in: those it was opened, merged, closed or first reviewed in. */
async function weeksCountedIn(
  db: Db,
  installationId: number,
  timeZone: string,
  repoIds?: number[],
): Promise<string[]> {
  const ofRepositories = repoIds
    ? sql`and pr.repo_id = any(${sql.param(repoIds.map(String))}::bigint[])`
    : sql``;
  const rows = await db.execute<{ week: string }>(sql`
    select distinct date_trunc('week', at at time zone ${timeZone}::text)::date::text as week
    from ${pullRequests} pr
    cross join lateral unnest(array[pr.created_at, pr.merged_at, pr.closed_at, pr.first_review_at]) as at
    where pr.installation_id = ${installationId} ${ofRepositories} and at is not null`);
  return [...rows].map((row) => row.week).sort();
}

/**
 * Whether a bot opened the pull request `pr` (the SQL twin of metrics/pull-request.ts `isBot`). A
 * pull request without an author type or login (a deleted account: GitHub's "ghost") was opened by
 * a person: without the coalesce it would be null, neither bot nor human, and drop out of the
 * humans-only figures. Text, so that drizzle and postgres.js queries both use it.
 */
export const BY_BOT_SQL = "coalesce(pr.author_type = 'Bot' or pr.author_login like '%[bot]', false)";
