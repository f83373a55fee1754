import { and, eq, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type { ParameterOrJSON, PendingQuery, Sql } from "postgres";
import {
  EVENTS,
  PERCENTILE_FIGURES,
  eventsOf,
  type MetricEvent,
  type PercentileFigure,
  type PullRequestValue,
} from "../../figures.js";
import type { Db } from "../client.js";
import { repositories } from "../schema/index.js";
import {
  anyEventBetween,
  countedColumn,
  countedPullRequests,
  figureSql,
  type CountedScope,
} from "./counted-pull-requests.js";
import { rangeBounds, type WeekRange } from "./week-range.js";
import { teamsOfUsers } from "./teams.js";

/**
 * What the metrics page and its CSV export read beyond the weekly rows: the repositories to choose
 * from, medians over a whole range of weeks, and every pull request of a range, streamed.
 *
 * They read the counted pull requests and the figures as the weekly rows do
 * (counted-pull-requests.ts, src/figures.ts); an event is in a range when it happened in [its first
 * Monday 00:00, the Monday after its last week 00:00) on the installation's wall clock.
 */

export interface RangeFilter extends WeekRange, Omit<CountedScope, "installationId"> {
  humansOnly: boolean;
}

const dialect = new PgDialect();

/** A repository as the metrics page's filter names it. */
export interface RepositoryName {
  id: number;
  fullName: string;
}

const trackedOf = (installationId: number) =>
  and(eq(repositories.installationId, installationId), eq(repositories.tracked, true));

/**
 * The installation's tracked repositories whose name contains `search` (case-insensitive), the
 * one named exactly first, then by name: at most `limit`, the choices of the metrics page's
 * repository search (an organization may track thousands).
 */
export async function searchTrackedRepositories(
  db: Db,
  installationId: number,
  search: string,
  limit: number,
): Promise<RepositoryName[]> {
  const escaped = search.replace(/[\\%_]/g, (char) => `\\${char}`);
  return db
    .select({ id: repositories.id, fullName: repositories.fullName })
    .from(repositories)
    .where(and(trackedOf(installationId), sql`${repositories.fullName} ilike ${`%${escaped}%`}`))
    .orderBy(sql`lower(${repositories.fullName}) = lower(${search}) desc`, repositories.fullName)
    .limit(limit);
}

/** The installation's tracked repository with this id, if there is one. */
export async function findTrackedRepositoryName(
  db: Db,
  installationId: number,
  id: number,
): Promise<RepositoryName | undefined> {
  const [row] = await db
    .select({ id: repositories.id, fullName: repositories.fullName })
    .from(repositories)
    .where(and(trackedOf(installationId), eq(repositories.id, id)));
  return row;
}

/** The range's percentiles, by figure name (medianCycleTimeHours, p75CycleTimeHours, …). */
export type RangeSummary = Partial<Record<PercentileFigure, number | null>>;

/**
 * The percentile figures over a whole range, which the weekly ones cannot give: each over the
 * pull requests whose event falls in the range, as a week's row counts them (src/figures.ts). One
 * pass over the range's pull requests: with no index on first_review_at, reading the merged ones
 * by index and the reviewed ones by a second scan cost nearly twice as much. Every percentile
 * figure, or only those named (each is a sort of the range's pull requests: a page in calendar
 * hours need not sort them by working hours too).
 */
export async function summarizeRange<Name extends PercentileFigure = PercentileFigure>(
  db: Db,
  installationId: number,
  filter: RangeFilter,
  names: readonly Name[] = PERCENTILE_FIGURES as Name[],
): Promise<Record<Name, number | null>> {
  const { low, high } = rangeBounds(filter);
  const inRange = (event: MetricEvent) =>
    sql`(p.${countedColumn(event)} >= ${low} and p.${countedColumn(event)} < ${high})`;
  const [row] = await db.execute<Record<Name, string | number | null>>(sql`
    select ${sql.join(
      names.map((name) => sql`${figureSql(name, inRange)} as ${sql.identifier(name)}`),
      sql`, `,
    )}
    from ${countedPullRequests({ installationId, ...filter })} p
    where ${anyEventBetween(eventsOf(names), low, high)}`);
  return Object.fromEntries(
    names.map((name) => {
      const value = row?.[name];
      return [name, value === null || value === undefined ? null : Number(value)];
    }),
  ) as Record<Name, number | null>;
}

/** One pull request of a CSV export: numbers and times as Postgres prints them. */
export interface PullRequestExportRow {
  /** GitHub's ids of the pull request, its repository and its author (null: a deleted account). */
  id: number;
  repoId: number;
  authorId: number | null;
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
  cycleTimeWorkingHours: string | null;
  reviewTimeWorkingHours: string | null;
  codingPhaseWorkingHours: string | null;
  pickupPhaseWorkingHours: string | null;
  reviewPhaseWorkingHours: string | null;
  additions: number | null;
  deletions: number | null;
  sizeLines: number;
  isRevert: boolean;
  revertPatternMatch: boolean;
  isHotfix: boolean;
  /** The author's teams now (sub-team memberships count for the parents): slugs, space-separated. */
  teams: string | null;
  /** Why the installation's exclusions leave it out (only with includeExcluded); null: it counts. */
  excludedReason: string | null;
  /** created_at exactly (microseconds and offset), as Postgres prints it: where a page ends. */
  createdAtExact: string;
}

/** A page of the export, in its order (created_at, id): the rows after a row's key, at most `limit`. */
export interface PullRequestPage {
  after: { createdAtExact: string; id: number } | undefined;
  limit: number;
}

/**
 * Every counted pull request with an event in the range (src/figures.ts EVENTS: what the range's
 * weekly rows count), oldest first. Executed by postgres.js rather than drizzle, which cannot
 * stream: await it for an array, or call `.cursor(n)` to read it in batches of n rows from a
 * server-side portal, holding one connection and n rows at a time.
 */
export function selectPullRequestExport(
  client: Sql,
  installationId: number,
  filter: RangeFilter,
  page?: PullRequestPage,
): PendingQuery<PullRequestExportRow[]> {
  const { low, high } = rangeBounds(filter);
  const after = page?.after
    ? sql`and (p.created_at, p.id) > (${page.after.createdAtExact}::timestamptz, ${page.after.id}::bigint)`
    : sql``;
  const limit = page ? sql`limit ${page.limit}` : sql``;
  // Formatted here: the drizzle driver that shares this client leaves timestamps as Postgres's text.
  const iso = (column: string) =>
    sql`to_char(p.${sql.identifier(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  const hours = (name: PullRequestValue) => sql`p.${countedColumn(name)}::text`;
  const query = dialect.sqlToQuery(sql`
    select p.repository, p.number, p.title, p.author_login as author, p.by_bot as "byBot", p.state, p.draft,
           ${iso("created_at")} as "createdAt", ${iso("ready_for_review_at")} as "readyForReviewAt",
           ${iso("first_commit_at")} as "firstCommitAt", ${iso("first_review_at")} as "firstReviewAt",
           ${iso("merged_at")} as "mergedAt", ${iso("closed_at")} as "closedAt",
           ${hours("cycleTimeHours")} as "cycleTimeHours", ${hours("reviewTimeHours")} as "reviewTimeHours",
           ${hours("codingPhaseHours")} as "codingPhaseHours", ${hours("pickupPhaseHours")} as "pickupPhaseHours",
           ${hours("reviewPhaseHours")} as "reviewPhaseHours",
           ${hours("cycleTimeWorkingHours")} as "cycleTimeWorkingHours",
           ${hours("reviewTimeWorkingHours")} as "reviewTimeWorkingHours",
           ${hours("codingPhaseWorkingHours")} as "codingPhaseWorkingHours",
           ${hours("pickupPhaseWorkingHours")} as "pickupPhaseWorkingHours",
           ${hours("reviewPhaseWorkingHours")} as "reviewPhaseWorkingHours",
           p.additions, p.deletions, p.${countedColumn("sizeLines")} as "sizeLines",
           p.is_revert as "isRevert", p.revert_pattern_match as "revertPatternMatch", p.is_hotfix as "isHotfix",
           author_teams.teams, p.excluded_reason as "excludedReason",
           p.id::float8 as id, p.repo_id::float8 as "repoId", p.author_id::float8 as "authorId",
           p.created_at::text as "createdAtExact"
    from ${countedPullRequests({ installationId, ...filter })} p
    left join ${teamsOfUsers(installationId)} author_teams on author_teams.user_id = p.author_id
    where ${anyEventBetween(Object.keys(EVENTS) as MetricEvent[], low, high)} ${after}
    order by p.created_at, p.id ${limit}`);
  return client.unsafe<PullRequestExportRow[]>(query.sql, query.params as ParameterOrJSON<never>[]);
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
