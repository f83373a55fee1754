import { sql, type SQL } from "drizzle-orm";
import { PHASE_VALUES, SIZE_BUCKETS, SIZE_CYCLE_VALUE, type HourKind } from "../../figures.js";
import type { Db } from "../client.js";
import { countedColumn, countedPullRequests, type CountedScope } from "./counted-pull-requests.js";
import { rangeBounds, type WeekRange } from "./week-range.js";

/**
 * What the metrics page shows beyond the weekly figures, computed from the counted pull requests
 * when read: the size distribution of a range and the phase means that add up (src/figures.ts
 * SIZE_BUCKETS, PHASE_VALUES). Both count the pull requests merged in the range, as the cycle time
 * does.
 */

export interface InsightFilter extends WeekRange, Omit<CountedScope, "installationId"> {
  hours: HourKind;
}

/** One size bucket: how many pull requests merged in the range, and their median cycle time. */
export interface SizeBucketFigures {
  label: string;
  upTo: number | null;
  prs: number;
  medianCycleHours: number | null;
}

/** A bucket's index (0 for XS …) of a size, as SIZE_BUCKETS defines it. */
function bucketSql(size: SQL): SQL {
  const bounded = SIZE_BUCKETS.flatMap((bucket, index) =>
    bucket.upTo === null ? [] : [sql`when ${size} <= ${bucket.upTo}::int then ${index}::int`],
  );
  return sql`case ${sql.join(bounded, sql` `)} else ${SIZE_BUCKETS.length - 1}::int end`;
}

const mergedInRange = (filter: InsightFilter) => {
  const { low, high } = rangeBounds(filter);
  const merged = countedColumn("merged");
  return sql`p.${merged} >= ${low} and p.${merged} < ${high}`;
};

/** Every bucket of SIZE_BUCKETS in order, empty ones with zero pull requests. */
export async function sizeDistribution(
  db: Db,
  installationId: number,
  filter: InsightFilter,
): Promise<SizeBucketFigures[]> {
  const cycle = countedColumn(SIZE_CYCLE_VALUE[filter.hours]);
  const rows = await db.execute<{ bucket: number; prs: number; median: string | null }>(sql`
    select ${bucketSql(sql`p.${countedColumn("sizeLines")}`)} as bucket, count(*)::int as prs,
           round((percentile_cont(0.5) within group (order by p.${cycle}))::numeric, 2) as median
    from ${countedPullRequests({ installationId, ...filter })} p
    where ${mergedInRange(filter)}
    group by 1`);
  const byBucket = new Map([...rows].map((row) => [Number(row.bucket), row]));
  return SIZE_BUCKETS.map((bucket, index) => {
    const row = byBucket.get(index);
    return {
      label: bucket.label,
      upTo: bucket.upTo,
      prs: row ? Number(row.prs) : 0,
      medianCycleHours: row?.median === null || row?.median === undefined ? null : Number(row.median),
    };
  });
}

/** The mean phases of a period's pull requests that have all three; total is their sum. */
export interface PhaseMeans {
  prs: number;
  coding: number;
  pickup: number;
  review: number;
  total: number;
}

/**
 * The phase means (src/figures.ts PHASE_VALUES) of each week of the range with a pull request that
 * counts (`weeks`, by week start), and of the whole range (`range`, null when none counts). A week
 * is the merge's, on the installation's calendar, as the weekly rows count it.
 */
export async function phaseMeans(
  db: Db,
  installationId: number,
  filter: InsightFilter,
): Promise<{ weeks: Map<string, PhaseMeans>; range: PhaseMeans | null }> {
  const [coding, pickup, review] = PHASE_VALUES[filter.hours].map((name) => countedColumn(name));
  const week = sql`date_trunc('week', p.${countedColumn("merged")} at time zone ${filter.timeZone}::text)::date`;
  const rows = await db.execute<{
    week: string | null;
    prs: number;
    coding: string;
    pickup: string;
    review: string;
  }>(sql`
    select p.merge_week::text as week, count(*)::int as prs,
           round(avg(p.${coding}), 2) as coding, round(avg(p.${pickup}), 2) as pickup,
           round(avg(p.${review}), 2) as review
    from (
      select p.*, ${week} as merge_week
      from ${countedPullRequests({ installationId, ...filter })} p
      where ${mergedInRange(filter)}
        and p.${coding} is not null and p.${pickup} is not null and p.${review} is not null
    ) p
    group by grouping sets ((p.merge_week), ())`);
  const weeks = new Map<string, PhaseMeans>();
  let range: PhaseMeans | null = null;
  for (const row of rows) {
    const means = meansOf(row);
    if (row.week === null) range = means;
    else weeks.set(row.week, means);
  }
  return { weeks, range };
}

/** Hundredths added as whole numbers, so the total is exactly the sum of the parts as shown. */
function meansOf(row: { prs: number; coding: string; pickup: string; review: string }): PhaseMeans {
  const cents = [row.coding, row.pickup, row.review].map((value) => Math.round(Number(value) * 100));
  const [coding, pickup, review] = cents.map((value) => value / 100) as [number, number, number];
  return {
    prs: Number(row.prs),
    coding,
    pickup,
    review,
    total: cents.reduce((sum, value) => sum + value, 0) / 100,
  };
}
