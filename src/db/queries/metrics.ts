import { and, eq, sql, type SQL } from "drizzle-orm";
import type { PendingQuery, Sql } from "postgres";
import type { Db } from "../client.js";
import { pullRequests, repositories } from "../schema/index.js";
import { BY_BOT_SQL } from "./pull-requests.js";

/**
 * What the metrics page and its CSV export read beyond the weekly rows: the repositories to choose
 * from, medians over a whole range of weeks, and every pull request of a range, streamed.
 *
 * They count pull requests as refreshWeeklyMetrics does (weekly-metrics.ts): those of tracked
 * repositories, an event in a week when it happened in [Monday 00:00, next Monday 00:00) on the
 * installation's wall clock, and "by a bot" when the author's type is Bot or its login ends in [bot].
 */

/** A range of weeks on the installation's calendar, both ends included (Mondays, YYYY-MM-DD). */
export interface WeekRange {
  from: string;
  to: string;
  /** The installation's IANA zone: weeks start on its Monday midnight. */
  timeZone: string;
}

export interface RangeFilter extends WeekRange {
  /** One repository; undefined for all of the installation's tracked repositories. */
  repoId?: number | undefined;
  /** Leave out pull requests opened by bots. */
  humansOnly: boolean;
}

const WEEK_START = /^\d{4}-\d{2}-\d{2}$/;

function checkRange(range: WeekRange): void {
  if (!WEEK_START.test(range.from) || !WEEK_START.test(range.to)) {
    throw new TypeError(`Not week starts (YYYY-MM-DD): "${range.from}", "${range.to}"`);
  }
}

/** The installation's tracked repositories, by name: the choices of the metrics page. */
export async function listTrackedRepositoryNames(
  db: Db,
  installationId: number,
): Promise<{ id: number; fullName: string }[]> {
  return db
    .select({ id: repositories.id, fullName: repositories.fullName })
    .from(repositories)
    .where(and(eq(repositories.installationId, installationId), eq(repositories.tracked, true)))
    .orderBy(repositories.fullName);
}

export interface RangeSummary {
  medianCycleTimeHours: number | null;
  p75CycleTimeHours: number | null;
  medianReviewTimeHours: number | null;
  medianCodingPhaseHours: number | null;
  medianPickupPhaseHours: number | null;
  medianReviewPhaseHours: number | null;
  medianSizeLines: number | null;
}

/**
 * Medians over a whole range, which the weekly medians cannot give: of the pull requests merged in
 * the range (cycle time, its phases, size) and of those first reviewed in it (review time), as a
 * week's row counts them. One pass over the range's pull requests: with no index on
 * first_review_at, reading the merged ones by index and the reviewed ones by a second scan cost
 * nearly twice as much.
 */
export async function summarizeRange(db: Db, installationId: number, filter: RangeFilter) {
  checkRange(filter);
  const tz = sql`${filter.timeZone}::text`;
  // Local midnight of the first Monday, and of the Monday after the last week.
  const low = sql`(${filter.from}::date::timestamp at time zone ${tz})`;
  const high = sql`((${filter.to}::date + 7)::timestamp at time zone ${tz})`;
  const merged = sql`pr.merged_at >= ${low} and pr.merged_at < ${high}`;
  const reviewed = sql`pr.first_review_at >= ${low} and pr.first_review_at < ${high}`;
  const median = (column: SQL, within: SQL) =>
    sql`round((percentile_cont(0.5) within group (order by ${column}) filter (where ${within}))::numeric, 2)`;
  // Postgres computes identical aggregate calls once: both cycle-time percentiles share one sort.
  const cycle = sql`(percentile_cont(array[0.5, 0.75]) within group (order by pr.cycle_time_hours) filter (where ${merged}))`;
  const [row] = await db.execute<{
    cycle: string | null;
    cycleP75: string | null;
    review: string | null;
    coding: string | null;
    pickup: string | null;
    reviewPhase: string | null;
    size: string | null;
  }>(sql`
    select
      round(${cycle}[1]::numeric, 2) as cycle,
      round(${cycle}[2]::numeric, 2) as "cycleP75",
      ${median(sql`pr.review_time_hours`, reviewed)} as review,
      ${median(sql`pr.coding_phase_hours`, merged)} as coding,
      ${median(sql`pr.pickup_phase_hours`, merged)} as pickup,
      ${median(sql`pr.review_phase_hours`, merged)} as "reviewPhase",
      round(percentile_cont(0.5) within group (order by coalesce(pr.additions, 0) + coalesce(pr.deletions, 0))
        filter (where ${merged})) as size
    from ${pullRequests} pr
    join ${repositories} r on r.id = pr.repo_id and r.installation_id = pr.installation_id and r.tracked
    where ${rangeScope(installationId, filter)} and ((${merged}) or (${reviewed}))`);
  const numberOf = (value: string | null | undefined) =>
    value === null || value === undefined ? null : Number(value);
  return {
    medianCycleTimeHours: numberOf(row?.cycle),
    p75CycleTimeHours: numberOf(row?.cycleP75),
    medianReviewTimeHours: numberOf(row?.review),
    medianCodingPhaseHours: numberOf(row?.coding),
    medianPickupPhaseHours: numberOf(row?.pickup),
    medianReviewPhaseHours: numberOf(row?.reviewPhase),
    medianSizeLines: numberOf(row?.size),
  } satisfies RangeSummary;
}

/** Pull requests of the installation (or one repository), without bots' when asked. */
function rangeScope(installationId: number, filter: RangeFilter): SQL {
  const conditions = [sql`pr.installation_id = ${installationId}::bigint`];
  if (filter.repoId !== undefined) conditions.push(sql`pr.repo_id = ${filter.repoId}::bigint`);
  if (filter.humansOnly) conditions.push(sql`not ${byBot}`);
  return sql.join(conditions, sql` and `);
}

const byBot = sql.raw(BY_BOT_SQL);

/** One pull request of a CSV export: numbers and times as Postgres prints them. */
export interface PullRequestExportRow {
  repository: string;
  number: number;
  title: string;
  author: string | null;
  byBot: boolean;
  state: string;
  draft: boolean;
  /** Instants as ISO 8601 in UTC (2024-01-08T09:30:00Z), as GitHub writes them. */
  createdAt: string;
  readyForReviewAt: string | null;
  firstCommitAt: string | null;
  firstReviewAt: string | null;
  mergedAt: string | null;
  closedAt: string | null;
  /** numeric(12,2) columns, as exact text. */
  cycleTimeHours: string | null;
  reviewTimeHours: string | null;
  codingPhaseHours: string | null;
  pickupPhaseHours: string | null;
  reviewPhaseHours: string | null;
  additions: number | null;
  deletions: number | null;
  isRevert: boolean;
  revertPatternMatch: boolean;
  isHotfix: boolean;
}

/**
 * Every pull request with an event in the range (opened, merged, closed or first reviewed in it:
 * what the range's weekly rows count), oldest first. Written with postgres.js rather than drizzle,
 * which cannot stream: await it for an array, or call `.cursor(n)` to read it in batches of n rows
 * from a server-side portal, holding one connection and n rows at a time.
 */
export function selectPullRequestExport(
  client: Sql,
  installationId: number,
  filter: RangeFilter,
): PendingQuery<PullRequestExportRow[]> {
  checkRange(filter);
  const low = client`(${filter.from}::date::timestamp at time zone ${filter.timeZone}::text)`;
  const high = client`((${filter.to}::date + 7)::timestamp at time zone ${filter.timeZone}::text)`;
  const inRange = (column: string) =>
    client`(pr.${client(column)} >= ${low} and pr.${client(column)} < ${high})`;
  const bot = client.unsafe(BY_BOT_SQL);
  // Formatted here: the drizzle driver that shares this client leaves timestamps as Postgres's text.
  const iso = (column: string) =>
    client`to_char(pr.${client(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  return client<PullRequestExportRow[]>`
    select r.full_name as repository, pr.number, pr.title, pr.author_login as author,
           ${bot} as "byBot", pr.state, pr.draft,
           ${iso("created_at")} as "createdAt", ${iso("ready_for_review_at")} as "readyForReviewAt",
           ${iso("first_commit_at")} as "firstCommitAt", ${iso("first_review_at")} as "firstReviewAt",
           ${iso("merged_at")} as "mergedAt", ${iso("closed_at")} as "closedAt",
           pr.cycle_time_hours::text as "cycleTimeHours", pr.review_time_hours::text as "reviewTimeHours",
           pr.coding_phase_hours::text as "codingPhaseHours", pr.pickup_phase_hours::text as "pickupPhaseHours",
           pr.review_phase_hours::text as "reviewPhaseHours",
           pr.additions, pr.deletions,
           pr.is_revert as "isRevert", pr.revert_pattern_match as "revertPatternMatch", pr.is_hotfix as "isHotfix"
    from pull_requests pr
    join repositories r on r.id = pr.repo_id and r.installation_id = pr.installation_id and r.tracked
    where pr.installation_id = ${installationId}
      ${filter.repoId !== undefined ? client`and pr.repo_id = ${filter.repoId}` : client``}
      ${filter.humansOnly ? client`and not ${bot}` : client``}
      and (${inRange("created_at")} or ${inRange("merged_at")} or ${inRange("closed_at")}
        or ${inRange("first_review_at")})
    order by pr.created_at, pr.id`;
}

/** The export of a range in batches of `batchSize` rows, read through a server-side cursor. */
export function streamPullRequestExport(
  client: Sql,
  installationId: number,
  filter: RangeFilter,
  batchSize: number,
): AsyncIterable<PullRequestExportRow[]> {
  return selectPullRequestExport(client, installationId, filter).cursor(batchSize);
}
