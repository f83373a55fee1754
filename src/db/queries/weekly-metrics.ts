import { and, desc, eq, lte, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { BY_BOT_SQL } from "./pull-requests.js";
import {
  pullRequests,
  repositories,
  weeklyMetrics,
  weeklyMetricsPending,
  type WeeklyMetricsRow,
} from "../schema/index.js";

/** The repo_id of a week's roll-up over every tracked repository of the installation. */
export const ALL_REPOSITORIES = 0;

const WEEK_START = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Recomputes the given weeks (Monday starts in `timeZone`, the installation's zone) from the
 * stored pull requests of tracked repositories: one row per repository with activity in the week,
 * plus the repo_id 0 roll-up, upserted in a single statement.
 *
 * A week's rows that no longer have any activity are deleted, not written as zeros: most
 * repositories are idle most weeks, so the table stays small, and readers treat a missing week as
 * zero. That is also how a repository that was untracked drops out of a refreshed week.
 *
 * The week of an event is `date_trunc('week', ts at time zone tz)`, as weekStartOf computes it in
 * TypeScript. An activity is: opened, merged or closed unmerged in the week, or first reviewed in it.
 */
export async function refreshWeeklyMetrics(
  db: Db,
  installationId: number,
  weeks: string[],
  timeZone: string,
): Promise<void> {
  if (weeks.length === 0) return;
  for (const week of weeks) {
    if (!WEEK_START.test(week)) throw new TypeError(`Not a week start (YYYY-MM-DD): "${week}"`);
  }
  // Checked above, so the array literal is safe to build as text; Postgres casts it to date[].
  const weekArray = `{${weeks.join(",")}}`;
  const tz = sql`${timeZone}::text`;
  const installation = sql`${installationId}::bigint`;
  await db.execute(sql`
    with target as (
      select distinct unnest(${weekArray}::date[]) as week_start
    ),
    bounds as (
      -- A day of slack each side: the exact week is matched below, this only narrows the scan.
      select (min(week_start)::timestamp at time zone ${tz}) - interval '1 day' as low,
             (max(week_start)::timestamp at time zone ${tz}) + interval '8 days' as high
      from target
    ),
    prs as (
      select pr.repo_id, pr.state, pr.cycle_time_hours, pr.review_time_hours,
             pr.coding_phase_hours, pr.pickup_phase_hours, pr.review_phase_hours,
             pr.is_revert, pr.revert_pattern_match, pr.is_hotfix, pr.additions, pr.deletions,
             ${sql.raw(BY_BOT_SQL)} as by_bot,
             date_trunc('week', pr.created_at at time zone ${tz})::date as opened_week,
             date_trunc('week', pr.merged_at at time zone ${tz})::date as merged_week,
             date_trunc('week', pr.closed_at at time zone ${tz})::date as closed_week,
             date_trunc('week', pr.first_review_at at time zone ${tz})::date as reviewed_week
      from ${pullRequests} pr
      join ${repositories} r on r.id = pr.repo_id and r.installation_id = pr.installation_id and r.tracked
      cross join bounds b
      where pr.installation_id = ${installation}
        and (pr.created_at between b.low and b.high
          or pr.merged_at between b.low and b.high
          or pr.closed_at between b.low and b.high
          or pr.first_review_at between b.low and b.high)
    ),
    -- Every pull request counts in the "all" rows; those not opened by a bot in the humans-only rows.
    activity as (
      select t.week_start, s.humans_only, p.*
      from prs p
      join target t on t.week_start in (p.opened_week, p.merged_week, p.closed_week, p.reviewed_week)
      join (values (false), (true)) as s(humans_only) on not (s.humans_only and p.by_bot)
    ),
    computed as (
      select
        case when grouping(repo_id) = 1 then ${ALL_REPOSITORIES}::bigint else repo_id end as repo_id,
        week_start,
        humans_only,
        count(*) filter (where opened_week = week_start)::int as prs_opened,
        count(*) filter (where merged_week = week_start)::int as prs_merged,
        count(*) filter (where state = 'closed' and closed_week = week_start)::int as prs_closed,
        round((percentile_cont(0.5) within group (order by cycle_time_hours)
          filter (where merged_week = week_start))::numeric, 2) as median_cycle_time_hours,
        round((percentile_cont(0.75) within group (order by cycle_time_hours)
          filter (where merged_week = week_start))::numeric, 2) as p75_cycle_time_hours,
        round((percentile_cont(0.5) within group (order by review_time_hours)
          filter (where reviewed_week = week_start))::numeric, 2) as median_review_time_hours,
        -- The phases of the pull requests merged in the week, like the cycle time they divide.
        round((percentile_cont(0.5) within group (order by coding_phase_hours)
          filter (where merged_week = week_start))::numeric, 2) as median_coding_phase_hours,
        round((percentile_cont(0.5) within group (order by pickup_phase_hours)
          filter (where merged_week = week_start))::numeric, 2) as median_pickup_phase_hours,
        round((percentile_cont(0.5) within group (order by review_phase_hours)
          filter (where merged_week = week_start))::numeric, 2) as median_review_phase_hours,
        round(percentile_cont(0.5) within group (order by coalesce(additions, 0) + coalesce(deletions, 0))
          filter (where merged_week = week_start))::int as median_size_lines,
        count(*) filter (where is_revert and merged_week = week_start)::int as reverts,
        count(*) filter (where (is_revert or revert_pattern_match) and merged_week = week_start)::int
          as reverts_with_pattern,
        count(*) filter (where is_hotfix and merged_week = week_start)::int as hotfixes,
        coalesce(sum(coalesce(additions, 0)) filter (where merged_week = week_start), 0)::int as additions,
        coalesce(sum(coalesce(deletions, 0)) filter (where merged_week = week_start), 0)::int as deletions
      from activity
      group by grouping sets ((humans_only, week_start, repo_id), (humans_only, week_start))
    ),
    upserted as (
      insert into ${weeklyMetrics} (
        installation_id, repo_id, week_start, humans_only, prs_opened, prs_merged, prs_closed,
        median_cycle_time_hours, p75_cycle_time_hours, median_review_time_hours,
        median_coding_phase_hours, median_pickup_phase_hours, median_review_phase_hours,
        median_size_lines, reverts, reverts_with_pattern, hotfixes, additions, deletions, refreshed_at
      )
      select ${installation}, repo_id, week_start, humans_only, prs_opened, prs_merged, prs_closed,
             median_cycle_time_hours, p75_cycle_time_hours, median_review_time_hours,
             median_coding_phase_hours, median_pickup_phase_hours, median_review_phase_hours,
             median_size_lines, reverts, reverts_with_pattern, hotfixes, additions, deletions, now()
      from computed
      on conflict (installation_id, repo_id, week_start, humans_only) do update set
        prs_opened = excluded.prs_opened,
        prs_merged = excluded.prs_merged,
        prs_closed = excluded.prs_closed,
        median_cycle_time_hours = excluded.median_cycle_time_hours,
        p75_cycle_time_hours = excluded.p75_cycle_time_hours,
        median_review_time_hours = excluded.median_review_time_hours,
        median_coding_phase_hours = excluded.median_coding_phase_hours,
        median_pickup_phase_hours = excluded.median_pickup_phase_hours,
        median_review_phase_hours = excluded.median_review_phase_hours,
        median_size_lines = excluded.median_size_lines,
        reverts = excluded.reverts,
        reverts_with_pattern = excluded.reverts_with_pattern,
        hotfixes = excluded.hotfixes,
        additions = excluded.additions,
        deletions = excluded.deletions,
        refreshed_at = excluded.refreshed_at
    )
    -- Every part of one statement sees the same snapshot: this removes only rows the upsert
    -- does not touch, so the week is replaced atomically.
    delete from ${weeklyMetrics} w
    using target t
    where w.installation_id = ${installation}
      and w.week_start = t.week_start
      and not exists (
        select 1 from computed c
        where c.repo_id = w.repo_id and c.week_start = w.week_start and c.humans_only = w.humans_only
      )`);
}

/**
 * Marks weeks of an installation out of date, in the transaction that changed their pull requests.
 * A week already pending is marked again, so a refresh that read the week before this change
 * committed does not clear it.
 */
export async function markWeeksPending(db: Db, installationId: number, weeks: string[]): Promise<void> {
  if (weeks.length === 0) return;
  // In week order, as clearPendingWeeks locks them: concurrent writers never deadlock.
  await db
    .insert(weeklyMetricsPending)
    .values([...new Set(weeks)].sort().map((weekStart) => ({ installationId, weekStart })))
    .onConflictDoUpdate({
      target: [weeklyMetricsPending.installationId, weeklyMetricsPending.weekStart],
      set: { markedAt: sql`clock_timestamp()` },
    });
}

export interface PendingWeek {
  weekStart: string;
  markedAt: string;
}

export async function listPendingWeeks(db: Db, installationId: number): Promise<PendingWeek[]> {
  return db
    .select({ weekStart: weeklyMetricsPending.weekStart, markedAt: weeklyMetricsPending.markedAt })
    .from(weeklyMetricsPending)
    .where(eq(weeklyMetricsPending.installationId, installationId))
    .orderBy(weeklyMetricsPending.weekStart);
}

/**
 * Clears refreshed weeks, but not one a change marked again since it was listed. Rows are locked in
 * week order first, the order markWeeksPending writes them in, so the two never deadlock.
 */
export async function clearPendingWeeks(db: Db, installationId: number, weeks: PendingWeek[]): Promise<void> {
  if (weeks.length === 0) return;
  // Arrays of dates travel as text[]: the driver's serialisers for date arrays expect Date objects.
  await db.execute(sql`
    with done as (
      select p.week_start
      from ${weeklyMetricsPending} p
      join unnest(${sql.param(weeks.map((w) => w.weekStart))}::text[]::date[],
                  ${sql.param(weeks.map((w) => w.markedAt))}::text[]::timestamptz[]) as listed(week_start, marked_at)
        on p.week_start = listed.week_start and p.marked_at = listed.marked_at
      where p.installation_id = ${installationId}
      order by p.week_start
      for update of p
    )
    delete from ${weeklyMetricsPending} p
    using done
    where p.installation_id = ${installationId} and p.week_start = done.week_start`);
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
