/**
 * The full recompute as it was before the recompute became set-based (bench:recompute's baseline,
 * measured in the same run): the installation's weekly rows deleted, every pull request loaded with
 * its reviews and commits 500 at a time, recomputed by computePullRequestMetrics and written one
 * UPDATE per changed pull request, then every week refreshed in one call of the upsert statement of
 * that time (copied here; the app's is src/db/queries/weekly-metrics.ts), as the weekly job did with
 * all weeks pending. The jobs' queueing is left out: it cost a few statements.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../src/db/client.js";
import { loadPullRequestsWithDetails } from "../src/db/queries/pull-requests.js";
import { pullRequests, repositories, weeklyMetrics } from "../src/db/schema/index.js";
import { computePullRequestMetrics, type PullRequestMetrics } from "../src/metrics/pull-request.js";
import type { InstallationSettings } from "../src/settings.js";

const BATCH = 500;
const ALL_REPOSITORIES = 0;

/** The installation's weekly rows, gone before the recompute (a new timezone moved every week). */
export async function deleteWeeklyRows(db: Db, installationId: number): Promise<void> {
  await db.delete(weeklyMetrics).where(eq(weeklyMetrics.installationId, installationId));
}

/** Every pull request's derived columns, as the recompute job computed them; returns how many changed. */
export async function recomputePullRequestsOneByOne(
  db: Db,
  installationId: number,
  settings: InstallationSettings,
): Promise<number> {
  let after = 0;
  let changed = 0;
  for (;;) {
    const ids = (
      await db
        .select({ id: pullRequests.id })
        .from(pullRequests)
        .where(and(eq(pullRequests.installationId, installationId), sql`${pullRequests.id} > ${after}`))
        .orderBy(pullRequests.id)
        .limit(BATCH)
    ).map((row) => row.id);
    if (ids.length === 0) return changed;
    await db.transaction(async (tx) => {
      const prs = await loadPullRequestsWithDetails(tx, installationId, ids);
      for (const pr of prs) {
        const metrics = computePullRequestMetrics(pr, settings);
        if (sameMetrics(pr, metrics)) continue;
        await tx
          .update(pullRequests)
          .set(metrics)
          .where(and(eq(pullRequests.installationId, installationId), eq(pullRequests.id, pr.id)));
        changed++;
      }
    });
    after = ids.at(-1)!;
  }
}

function sameMetrics(stored: PullRequestMetrics, metrics: PullRequestMetrics): boolean {
  return (Object.keys(metrics) as (keyof PullRequestMetrics)[]).every((key) => {
    const [a, b] = [stored[key], metrics[key]];
    return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;
  });
}

/** The weekly refresh statement of that time, over the given weeks. */
export async function refreshWeeksByUpsert(
  db: Db,
  installationId: number,
  weeks: string[],
  timeZone: string,
): Promise<void> {
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
             coalesce(pr.author_type = 'Bot' or pr.author_login like '%[bot]', false) as by_bot,
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
