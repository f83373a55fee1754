import { and, desc, eq, lte, sql, type SQL } from "drizzle-orm";
import { EVENTS, FIGURES, type FigureName, type MetricEvent } from "../../figures.js";
import { LOCK_NAMESPACE, type Db } from "../client.js";
import { weeklyMetrics, weeklyMetricsPending, type WeeklyMetricsRow } from "../schema/index.js";
import { rangeBounds, type WeekRange } from "./week-range.js";
import {
  anyEventBetween,
  countedColumn,
  countedPullRequests,
  figureSql,
  type CountedScope,
} from "./counted-pull-requests.js";

/** The repo_id of a week's roll-up over every tracked repository of the installation. */
export const ALL_REPOSITORIES = 0;

const WEEK_START = /^\d{4}-\d{2}-\d{2}$/;

/** Figures in the weekly rows: every column but the key and the refresh time has a definition. */
type WeeklyFigureColumn = Exclude<
  keyof WeeklyMetricsRow,
  "installationId" | "repoId" | "weekStart" | "humansOnly" | "refreshedAt"
>;
type Undefined = Exclude<WeeklyFigureColumn, FigureName>;
// Fails to compile, naming the column, when a weekly column has no figure in src/figures.ts.
const _everyColumnDefined: [Undefined] extends [never] ? true : Undefined = true;

const figureNames = Object.keys(FIGURES) as FigureName[];

/** Week starts as a Postgres array literal, each checked first, so it is safe to build as text. */
function weekArrayOf(weeks: string[]): string {
  for (const week of weeks) {
    if (!WEEK_START.test(week)) throw new TypeError(`Not a week start (YYYY-MM-DD): "${week}"`);
  }
  return `{${weeks.join(",")}}`;
}
const weekColumn = (event: MetricEvent) => sql.identifier(`${event}_week`);

/**
 * Recomputes the given weeks (Monday starts in `timeZone`, the installation's zone) from the
 * counted pull requests (src/db/queries/counted-pull-requests.ts): one row per repository with
 * activity in the week, plus the repo_id 0 roll-up, each figure as src/figures.ts defines it, once
 * over every pull request and once without those opened by bots (humans_only).
 *
 * A week's rows are replaced: its old rows deleted and the new ones inserted, in one transaction
 * (readers see the old rows or the new), rather than upserted and then cleared of the rows the
 * upsert did not touch. A week without
 * activity has no rows, not rows of zeros: most repositories are idle most weeks, so the table
 * stays small, and readers treat a missing week as zero. That is also how a repository that was
 * untracked drops out of a refreshed week. Refreshes of one installation wait for each other.
 *
 * The week of an event is `date_trunc('week', ts at time zone tz)`, as weekStartOf computes it in
 * TypeScript. A pull request has activity in every week one of its events (src/figures.ts EVENTS)
 * falls in.
 */
export async function refreshWeeklyMetrics(
  db: Db,
  installationId: number,
  weeks: string[],
  timeZone: string,
): Promise<void> {
  if (weeks.length === 0) return;
  const weekArray = weekArrayOf(weeks);
  await db.transaction(async (tx) => {
    await tx.execute(
      sql`select pg_advisory_xact_lock(${LOCK_NAMESPACE.weeklyMetrics}::int, hashtext(${String(installationId)}))`,
    );
    await tx.execute(sql`
      delete from ${weeklyMetrics}
      where installation_id = ${installationId}::bigint and week_start = any(${weekArray}::date[])`);
    await tx.execute(insertWeeks(installationId, weekArray, timeZone));
  });
}

/**
 * The counted pull requests of a scope once per target week they have activity in, as the CTEs
 * `target` … `activity` (the week, then every column of the counted relation): what a week's
 * figures are aggregated over, for the stored rows and for the figures computed when read alike.
 */
function weeklyActivity(scope: CountedScope, weekArray: string, timeZone: string): SQL {
  const tz = sql`${timeZone}::text`;
  const events = Object.keys(EVENTS) as MetricEvent[];
  const eventWeeks = events.map(
    (event) =>
      sql`date_trunc('week', p.${countedColumn(event)} at time zone ${tz})::date as ${weekColumn(event)}`,
  );
  return sql`
    target as (
      select distinct unnest(${weekArray}::date[]) as week_start
    ),
    bounds as (
      -- A day of slack each side: the exact week is matched below, this only narrows the scan.
      select (min(week_start)::timestamp at time zone ${tz}) - interval '1 day' as low,
             (max(week_start)::timestamp at time zone ${tz}) + interval '8 days' as high
      from target
    ),
    prs as (
      select p.*, ${sql.join(eventWeeks, sql`, `)}
      from ${countedPullRequests(scope)} p
      cross join bounds b
      where ${anyEventBetween(events, sql`b.low`, sql`b.high`)}
    ),
    -- A pull request once per week it has activity in.
    activity as (
      select t.week_start, p.*
      from prs p
      cross join lateral (
        select distinct week from unnest(array[${sql.join(
          events.map((event) => sql`p.${weekColumn(event)}`),
          sql`, `,
        )}]) as week
      ) as e
      join target t on t.week_start = e.week
    )`;
}

const inWeek = (event: MetricEvent) => sql`p.${weekColumn(event)} = p.week_start`;

function insertWeeks(installationId: number, weekArray: string, timeZone: string): SQL {
  const columns = figureNames.map((name) => sql.identifier(weeklyMetrics[name].name));
  return sql`
    with ${weeklyActivity({ installationId }, weekArray, timeZone)},
    -- In the "all" rows, and in the humans-only rows unless a bot opened it.
    variants as (
      select s.humans_only, a.*
      from activity a
      join (values (false), (true)) as s(humans_only) on not (s.humans_only and a.by_bot)
    )
    insert into ${weeklyMetrics} (
      installation_id, repo_id, week_start, humans_only, ${sql.join(columns, sql`, `)}, refreshed_at
    )
    select ${installationId}::bigint,
           case when grouping(p.repo_id) = 1 then ${ALL_REPOSITORIES}::bigint else p.repo_id end,
           p.week_start, p.humans_only,
           ${sql.join(
             figureNames.map((name) => figureSql(name, inWeek)),
             sql`, `,
           )},
           now()
    from variants p
    group by grouping sets ((p.humans_only, p.week_start, p.repo_id), (p.humans_only, p.week_start))`;
}

/** A week's figures (src/figures.ts), as its stored row holds them. */
export type WeekFigures = Pick<WeeklyMetricsRow, FigureName | "weekStart">;

/** A range's figures over its whole span (its percentiles: src/figures.ts). */
export type RangeFigures = Pick<WeeklyMetricsRow, FigureName>;

/**
 * The figures of a scope no stored row is kept for (a team), computed from the counted pull
 * requests as the weekly refresh computes its rows (same activity, same definitions): each week
 * with activity (oldest first; weeks without any have no row, as in the table), and the whole
 * range, whose percentiles are over the range's pull requests as the range medians are
 * (metrics.ts summarizeRange). One statement: the scope's pull requests are read once for both.
 */
export async function computeViewFigures(
  db: Db,
  scope: CountedScope,
  range: WeekRange,
  weeks: string[],
): Promise<{ weeks: WeekFigures[]; range: RangeFigures }> {
  const { low, high } = rangeBounds(range);
  const inRange = (event: MetricEvent) =>
    sql`(p.${countedColumn(event)} >= ${low} and p.${countedColumn(event)} < ${high})`;
  const figures = (inPeriod: (event: MetricEvent) => SQL) =>
    sql.join(
      figureNames.map((name) => sql`${figureSql(name, inPeriod)} as ${sql.identifier(name)}`),
      sql`, `,
    );
  const rows = await db.execute<Record<string, string | number | null>>(sql`
    with ${weeklyActivity(scope, weekArrayOf(weeks), range.timeZone)}
    select p.week_start::text as "weekStart", ${figures(inWeek)}
    from activity p
    group by p.week_start
    union all
    select null, ${figures(inRange)}
    from prs p
    order by 1 nulls last`);
  const parsed = [...rows].map(
    (row) =>
      Object.fromEntries([
        ["weekStart", row.weekStart],
        // Percentiles come back as numeric text; counts and sums as integers.
        ...figureNames.map((name) => [name, row[name] === null ? null : Number(row[name])]),
      ]) as WeekFigures,
  );
  const { weekStart: _whole, ...whole } = parsed.pop()!;
  return { weeks: parsed, range: whole };
}

/**
 * Marks weeks of an installation out of date, in the transaction that changed their pull requests:
 * a mark of its own for each week, added whatever marks the week already has, so this writer never
 * waits for another's, and a refresh that listed the week before this change committed leaves it.
 */
export async function markWeeksPending(db: Db, installationId: number, weeks: string[]): Promise<void> {
  if (weeks.length === 0) return;
  await db
    .insert(weeklyMetricsPending)
    .values([...new Set(weeks)].sort().map((weekStart) => ({ installationId, weekStart })));
}

export interface PendingWeek {
  weekStart: string;
  /** The marks the week has: what a refresh of it clears. */
  marks: number[];
}

/** The installation's pending weeks, in order, each with its marks. */
export async function listPendingWeeks(db: Db, installationId: number): Promise<PendingWeek[]> {
  const rows = await db.execute<{ week_start: string; marks: string[] }>(sql`
    select week_start::text, array_agg(id order by id)::text[] as marks
    from ${weeklyMetricsPending}
    where installation_id = ${installationId}
    group by week_start
    order by week_start`);
  return rows.map((row) => ({ weekStart: row.week_start, marks: row.marks.map(Number) }));
}

/**
 * Clears the marks a refresh listed: a week marked again since (a change committed after the
 * refresh read it) keeps its new mark, and the next refresh takes it.
 */
export async function clearPendingWeeks(db: Db, installationId: number, weeks: PendingWeek[]): Promise<void> {
  const marks = weeks.flatMap((week) => week.marks);
  if (marks.length === 0) return;
  // Ids travel as text[]: bigint arrays are read and written as text by the driver.
  await db.execute(sql`
    delete from ${weeklyMetricsPending}
    where installation_id = ${installationId}
      and id = any(${sql.param(marks.map(String))}::text[]::bigint[])`);
}

export interface ListWeeklyMetricsOptions {
  /** A repository, or ALL_REPOSITORIES (the default) for the installation's roll-up. */
  repoId?: number;
  /** Leave out pull requests opened by bots (default false: every pull request). */
  humansOnly?: boolean;
  /** How many weeks; 12 is a quarter, the window the UI charts. */
  weeks?: number;
  /**
   * The newest week start to include (usually weekStartOf(now, timeZone)): the window is then the
   * `weeks` calendar weeks ending there. Without it, the `weeks` most recent stored rows.
   */
  until?: string;
}

/**
 * A repository's (or the roll-up's) weekly rows, oldest first. Weeks without activity have no row
 * (see refreshWeeklyMetrics): callers fill the gaps with zeros.
 */
export async function listWeeklyMetrics(
  db: Db,
  installationId: number,
  { repoId = ALL_REPOSITORIES, weeks = 12, until, humansOnly = false }: ListWeeklyMetricsOptions = {},
): Promise<WeeklyMetricsRow[]> {
  const conditions = [
    eq(weeklyMetrics.installationId, installationId),
    eq(weeklyMetrics.repoId, repoId),
    eq(weeklyMetrics.humansOnly, humansOnly),
  ];
  if (until !== undefined) {
    conditions.push(
      lte(weeklyMetrics.weekStart, until),
      sql`${weeklyMetrics.weekStart} > ${until}::date - ${weeks * 7}::int`,
    );
  }
  const rows = await db
    .select()
    .from(weeklyMetrics)
    .where(and(...conditions))
    .orderBy(desc(weeklyMetrics.weekStart))
    .limit(weeks);
  return rows.reverse();
}

/** Forgets every weekly row of the installation (its weeks start on other days after a new timezone). */
export async function deleteWeeklyMetrics(db: Db, installationId: number): Promise<void> {
  await db.delete(weeklyMetrics).where(eq(weeklyMetrics.installationId, installationId));
}

/** The weeks the installation has weekly rows for (week starts, sorted). */
export async function listWeeksWithRows(db: Db, installationId: number): Promise<string[]> {
  const rows = await db
    .selectDistinct({ weekStart: weeklyMetrics.weekStart })
    .from(weeklyMetrics)
    .where(eq(weeklyMetrics.installationId, installationId))
    .orderBy(weeklyMetrics.weekStart);
  return rows.map((row) => row.weekStart);
}

/**
 * A version of everything an installation's figures are computed from: every change to a pull
 * request or review marks the weeks it counts in pending, and their refresh rewrites those weeks'
 * rows (a new refreshed_at, or fewer rows), the installation's roll-up rows (repo_id 0) among
 * them. Null while any week is pending: the figures are about to change.
 */
export async function figuresVersion(db: Db, installationId: number): Promise<string | null> {
  const [row] = await db.execute<{ pending: boolean; version: string }>(sql`
    select exists (select 1 from ${weeklyMetricsPending} where installation_id = ${installationId}) as pending,
           concat_ws('/', count(*), max(refreshed_at)::text) as version
    from ${weeklyMetrics}
    where installation_id = ${installationId} and repo_id = ${ALL_REPOSITORIES}`);
  return !row || row.pending ? null : row.version;
}
