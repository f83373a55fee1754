import { and, eq, getTableColumns, inArray, sql } from "drizzle-orm";
import { EVENTS } from "../../figures.js";
import type { Db } from "../client.js";
import { anyOf } from "./any-of.js";
import { columnKeys, jsonRows } from "./json-rows.js";
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
  const { columns, relation } = jsonRows(pullRequests, keys, sorted);
  const written = await db.execute<{
    installation_id: string;
    id: string;
  }>(sql`insert into ${pullRequests} as pr (${columns})
    select ${columns} from ${relation}
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
  if (rows.length === 0) return;
  const sorted = [...rows].sort((a, b) => a.id - b.id);
  const { columns, relation } = jsonRows(reviews, REVIEW_KEYS, sorted);
  await db.execute(sql`insert into ${reviews} as r (${columns})
    select ${columns} from ${relation}
    on conflict (id) do update set
      reviewer_id = excluded.reviewer_id,
      reviewer_login = excluded.reviewer_login,
      reviewer_type = excluded.reviewer_type,
      state = excluded.state,
      submitted_at = coalesce(excluded.submitted_at, r.submitted_at),
      written_at = now()
    where r.state <> 'dismissed' or excluded.state = 'dismissed'`);
}

// Every column but written_at, which the statement sets.
const REVIEW_KEYS = columnKeys(reviews).filter((key) => key !== "writtenAt");

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

export async function upsertCommits(db: Db, rows: NewCommitRow[]): Promise<void> {
  if (rows.length === 0) return;
  const { columns, relation } = jsonRows(commits, COMMIT_KEYS, rows);
  await db.execute(sql`insert into ${commits} (${columns})
    select ${columns} from ${relation}
    on conflict (installation_id, sha, pull_request_id) do update set
      author_id = excluded.author_id,
      author_login = excluded.author_login,
      author_email = excluded.author_email,
      author_name = excluded.author_name,
      message = excluded.message,
      authored_at = excluded.authored_at,
      committed_at = excluded.committed_at,
      written_at = now()`);
}

const COMMIT_KEYS = columnKeys(commits).filter((key) => key !== "writtenAt");

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

/** How many pull requests of a repository are stored, and when the oldest of them was created. */
export async function storedPullRequestSpan(
  db: Db,
  repoId: number,
): Promise<{ count: number; oldest: Date | null }> {
  const [row] = await db
    .select({
      count: sql<number>`count(*)::int`,
      oldest: sql<string | null>`min(${pullRequests.createdAt})`,
    })
    .from(pullRequests)
    .where(eq(pullRequests.repoId, repoId));
  return { count: row?.count ?? 0, oldest: row?.oldest ? new Date(row.oldest) : null };
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
  | "firstReviewerId"
  | "firstCommitAt"
  | "cycleTimeHours"
  | "reviewTimeHours"
  | "codingPhaseHours"
  | "pickupPhaseHours"
  | "reviewPhaseHours"
  | "cycleTimeWorkingHours"
  | "reviewTimeWorkingHours"
  | "codingPhaseWorkingHours"
  | "pickupPhaseWorkingHours"
  | "reviewPhaseWorkingHours"
  | "isRevert"
  | "revertPatternMatch"
  | "isHotfix"
  | "excludedReason"
>;

export interface DerivedColumnsUpdate {
  id: number;
  values: Partial<DerivedPullRequestColumns>;
  /**
   * The row's written_at when its inputs were read (exact text): the update skips a row written
   * since, whose new values its writer computed.
   */
  writtenAt?: string;
}

/**
 * Writes recomputed derived columns in one statement for any number of pull requests. Updates in
 * one call must carry the same keys.
 */
export async function updateDerivedColumns(
  db: Db,
  installationId: number,
  updates: DerivedColumnsUpdate[],
): Promise<void> {
  if (updates.length === 0) return;
  const keys = Object.keys(updates[0]!.values) as (keyof DerivedPullRequestColumns)[];
  // Every array travels as text and is cast on the server: the driver's serialisers for typed
  // arrays expect other JavaScript types than drizzle's.
  const array = (values: unknown[], type: string) =>
    sql`${sql.param(values.map(asText))}::text[]::${sql.raw(type)}[]`;
  const columns = keys.map((key) => ({ key, column: prColumns[key] }));
  await db.execute(sql`
    update ${pullRequests} p
    set ${sql.join(
      columns.map(({ column }) => sql`${sql.identifier(column.name)} = v.${sql.identifier(column.name)}`),
      sql`, `,
    )}
    from unnest(
      ${array(
        updates.map((update) => update.id),
        "bigint",
      )},
      ${array(
        updates.map((update) => update.writtenAt ?? null),
        "timestamptz",
      )},
      ${sql.join(
        columns.map(({ key, column }) =>
          array(
            updates.map((update) => update.values[key] ?? null),
            column.getSQLType(),
          ),
        ),
        sql`, `,
      )}
    ) as v(id, written_at, ${sql.join(
      columns.map(({ column }) => sql.identifier(column.name)),
      sql`, `,
    )})
    where p.installation_id = ${installationId}::bigint and p.id = v.id
      and (v.written_at is null or p.written_at = v.written_at)`);
}

function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : String(value);
}

/**
 * A batch of the installation's pull requests after `afterId`, in id order, with what their
 * derived values are computed from and the values as stored (a full pass in batches).
 */
export async function listDerivationInputs(db: Db, installationId: number, afterId: number, limit: number) {
  return db
    .select({
      id: pullRequests.id,
      writtenAt: sql<string>`${pullRequests.writtenAt}::text`,
      title: pullRequests.title,
      headRef: pullRequests.headRef,
      baseRef: pullRequests.baseRef,
      labels: pullRequests.labels,
      authorLogin: pullRequests.authorLogin,
      createdAt: pullRequests.createdAt,
      readyForReviewAt: pullRequests.readyForReviewAt,
      mergedAt: pullRequests.mergedAt,
      firstCommitAt: pullRequests.firstCommitAt,
      firstReviewAt: pullRequests.firstReviewAt,
      cycleTimeHours: pullRequests.cycleTimeHours,
      reviewTimeHours: pullRequests.reviewTimeHours,
      codingPhaseHours: pullRequests.codingPhaseHours,
      pickupPhaseHours: pullRequests.pickupPhaseHours,
      reviewPhaseHours: pullRequests.reviewPhaseHours,
      cycleTimeWorkingHours: pullRequests.cycleTimeWorkingHours,
      reviewTimeWorkingHours: pullRequests.reviewTimeWorkingHours,
      codingPhaseWorkingHours: pullRequests.codingPhaseWorkingHours,
      pickupPhaseWorkingHours: pullRequests.pickupPhaseWorkingHours,
      reviewPhaseWorkingHours: pullRequests.reviewPhaseWorkingHours,
      revertPatternMatch: pullRequests.revertPatternMatch,
      isHotfix: pullRequests.isHotfix,
      excludedReason: pullRequests.excludedReason,
    })
    .from(pullRequests)
    .where(and(eq(pullRequests.installationId, installationId), sql`${pullRequests.id} > ${afterId}`))
    .orderBy(pullRequests.id)
    .limit(limit);
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

/** Joins a pull request to its repository when the installation tracks it. */
const ofTrackedRepository = (installationId: number) =>
  and(
    eq(repositories.id, pullRequests.repoId),
    eq(repositories.installationId, installationId),
    eq(repositories.tracked, true),
  );

/** What the installation's pull requests opened since `since` are excluded on, and their reason now. */
export async function listExclusionInputs(db: Db, installationId: number, since: Date) {
  return db
    .select({
      labels: pullRequests.labels,
      authorLogin: pullRequests.authorLogin,
      headRef: pullRequests.headRef,
      baseRef: pullRequests.baseRef,
      excludedReason: pullRequests.excludedReason,
    })
    .from(pullRequests)
    .innerJoin(repositories, ofTrackedRepository(installationId))
    .where(
      and(
        eq(pullRequests.installationId, installationId),
        sql`${pullRequests.createdAt} >= ${since.toISOString()}::timestamptz`,
      ),
    );
}

/**
 * Up to `limit` of these tracked repositories' pull requests whose labels are not known (rows
 * written before labels were stored), newest first, with what fetching them by id needs. A row
 * without a node id cannot be asked for by id and is left out.
 */
export async function listPullRequestsWithoutLabels(
  db: Db,
  installationId: number,
  repoIds: number[],
  limit: number,
): Promise<{ id: number; nodeId: string; repoId: number }[]> {
  if (repoIds.length === 0 || limit <= 0) return [];
  const rows = await db
    .select({ id: pullRequests.id, nodeId: pullRequests.nodeId, repoId: pullRequests.repoId })
    .from(pullRequests)
    .innerJoin(repositories, ofTrackedRepository(installationId))
    .where(
      and(
        eq(pullRequests.installationId, installationId),
        anyOf(pullRequests.repoId, repoIds),
        sql`${pullRequests.labels} is null`,
        sql`${pullRequests.nodeId} is not null`,
      ),
    )
    .orderBy(sql`${pullRequests.createdAt} desc, ${pullRequests.id} desc`)
    .limit(limit);
  return rows.map((row) => ({ ...row, nodeId: row.nodeId! }));
}

/**
 * Records no labels for pull requests whose labels were not known and GitHub no longer has: none
 * can be read any more, none is excluded by one (as before), and none is asked for again.
 */
export async function recordNoLabels(db: Db, installationId: number, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(pullRequests)
    .set({ labels: [], writtenAt: sql`now()` })
    .where(
      and(
        eq(pullRequests.installationId, installationId),
        anyOf(pullRequests.id, ids),
        sql`${pullRequests.labels} is null`,
      ),
    );
}

/** Every week the installation's stored pull requests count in (Mondays in `timeZone`). */
export async function weeksOfInstallation(
  db: Db,
  installationId: number,
  timeZone: string,
): Promise<string[]> {
  return weeksCountedIn(db, installationId, timeZone);
}

const eventColumns = Object.values(EVENTS).map((field) => sql`pr.${sql.identifier(prColumns[field].name)}`);

/** The weeks a pull request counts in: those its events (src/figures.ts) fall in. */
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
    cross join lateral unnest(array[${sql.join(eventColumns, sql`, `)}]) as at
    where pr.installation_id = ${installationId} ${ofRepositories} and at is not null`);
  return [...rows].map((row) => row.week).sort();
}

/**
 * Installations with a duration stored without its working-hours twin: rows written before working
 * hours were stored, which only a recompute fills in.
 */
export async function listInstallationsMissingWorkingHours(db: Db): Promise<number[]> {
  const rows = await db.execute<{ id: string }>(sql`
    select distinct installation_id::text as id from ${pullRequests}
    where (cycle_time_hours is not null and cycle_time_working_hours is null)
       or (review_time_hours is not null and review_time_working_hours is null)
       or (coding_phase_hours is not null and coding_phase_working_hours is null)`);
  return [...rows].map((row) => Number(row.id));
}
