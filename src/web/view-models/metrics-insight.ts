import type { Db } from "../../db/client.js";
import {
  phaseMeans,
  sizeDistribution,
  type InsightFilter,
  type PhaseMeans,
  type SizeBucketFigures,
} from "../../db/queries/metrics-insight.js";
import { formatCount } from "./format.js";
import {
  buildGroupedBarChart,
  buildGroupedHoursChart,
  buildStackedHoursChart,
  type ChartWeek,
} from "./metrics-charts.js";

/**
 * The metrics page's size distribution and phases that add up (src/figures.ts SIZE_BUCKETS,
 * PHASE_VALUES), read when the page is and kept as long as the view's figures are (the same cache
 * key: readViewFigures), and prepared for views/metrics-report.eta.
 */

export interface Insight {
  sizes: SizeBucketFigures[];
  phases: { weeks: Map<string, PhaseMeans>; range: PhaseMeans | null };
}

/** What a kind of hours looks like on the page: short text, and exact hours for tooltips. */
export interface HoursFormat {
  short: (hours: number | null) => string;
  exact: (hours: number) => string;
}

/** The insight of a view, from the cache when its figures were (`key` null: computed afresh). */
export async function readInsight(
  db: Db,
  installationId: number,
  filter: InsightFilter,
  key: string | null,
  cache: { get(key: string): Insight | undefined; set(key: string, value: Insight): void },
): Promise<Insight> {
  const cacheKey = key === null ? null : `${key}|${filter.hours}`;
  const cached = cacheKey ? cache.get(cacheKey) : undefined;
  if (cached) return cached;
  const [sizes, phases] = await Promise.all([
    sizeDistribution(db, installationId, filter),
    phaseMeans(db, installationId, filter),
  ]);
  const insight = { sizes, phases };
  if (cacheKey) cache.set(cacheKey, insight);
  return insight;
}

/** "≤ 10 lines", "11–50 lines", "more than 1,000 lines". */
export function bucketRange(sizes: readonly SizeBucketFigures[], index: number): string {
  const bucket = sizes[index]!;
  const previous = index === 0 ? null : sizes[index - 1]!.upTo;
  if (bucket.upTo === null) return `more than ${formatCount(previous ?? 0)} lines`;
  if (previous === null) return `up to ${formatCount(bucket.upTo)} lines`;
  return `${formatCount(previous + 1)}–${formatCount(bucket.upTo)} lines`;
}

/** The size section: a table of the buckets and two charts (how many, and how long they took). */
export function buildSizeView(sizes: readonly SizeBucketFigures[], format: HoursFormat, unit: string) {
  const labels: ChartWeek[] = sizes.map((bucket, index) => ({
    short: bucket.label,
    long: `${bucket.label} (${bucketRange(sizes, index)})`,
  }));
  const merged = sizes.reduce((total, bucket) => total + bucket.prs, 0);
  return {
    merged: formatCount(merged),
    rows: sizes.map((bucket, index) => ({
      label: bucket.label,
      range: bucketRange(sizes, index),
      prs: formatCount(bucket.prs),
      cycle: {
        text: format.short(bucket.medianCycleHours),
        exact: bucket.medianCycleHours === null ? null : format.exact(bucket.medianCycleHours),
      },
    })),
    charts: [
      buildGroupedBarChart({
        id: "chart-size-count",
        title: "Pull requests merged, by size",
        description: "Bars per size bucket; the table beside has the same numbers.",
        weeks: labels,
        series: [{ label: "Merged", className: "series-merged", values: sizes.map((b) => b.prs) }],
        tooltip: (index) => `${labels[index]!.long}: ${formatCount(sizes[index]!.prs)} merged`,
      }),
      buildGroupedHoursChart({
        id: "chart-size-cycle",
        title: `Median cycle time, by size${unit}`,
        description: "Bars per size bucket; the table beside has the same numbers.",
        weeks: labels,
        series: [
          {
            label: "Median cycle time",
            className: "series-cycle",
            values: sizes.map((b) => b.medianCycleHours),
          },
        ],
        formatHours: format.short,
        tooltip: (index) => {
          const hours = sizes[index]!.medianCycleHours;
          return `${labels[index]!.long}: ${hours === null ? "nothing merged" : `median cycle time ${format.exact(hours)}`}`;
        },
      }),
    ],
  };
}

/** "coding 12.50 hours + pickup 3.00 hours + review 1.25 hours = 16.75 hours (4 pull requests)". */
function phaseSum(means: PhaseMeans, format: HoursFormat): string {
  const prs = `${formatCount(means.prs)} pull ${means.prs === 1 ? "request" : "requests"}`;
  return `coding ${format.exact(means.coding)} + pickup ${format.exact(means.pickup)} + review ${format.exact(means.review)} = ${format.exact(means.total)} (${prs})`;
}

/** The phases chart: per week the mean phases stacked, the marker at their total, which they reach. */
export function buildPhasesView(
  weeks: readonly string[],
  labels: readonly ChartWeek[],
  phases: Insight["phases"],
  format: HoursFormat,
  unit: string,
  rangeText: string,
) {
  const byWeek = weeks.map((week) => phases.weeks.get(week) ?? null);
  const series = (pick: (means: PhaseMeans) => number) => byWeek.map((means) => (means ? pick(means) : null));
  const range = phases.range;
  return {
    chart: buildStackedHoursChart({
      id: "chart-cycle-time",
      title: `Where the time goes: mean phases per week${unit}`,
      description: `Mean coding, pickup and review time${unit} of the pull requests merged each week with all three phases, ${rangeText}, stacked; the mark is their total, the sum of the three.`,
      weeks: labels,
      stack: [
        { label: "Coding", className: "series-coding", values: series((m) => m.coding) },
        { label: "Pickup", className: "series-pickup", values: series((m) => m.pickup) },
        { label: "Review", className: "series-review", values: series((m) => m.review) },
      ],
      marker: { label: "Total of the phases", className: "series-cycle", values: series((m) => m.total) },
      formatHours: format.short,
      tooltip: (index) => {
        const means = byWeek[index];
        return `Week of ${labels[index]!.long}: ${means ? phaseSum(means, format) : "nothing merged with all three phases"}`;
      },
    }),
    range: range
      ? {
          coding: format.short(range.coding),
          pickup: format.short(range.pickup),
          review: format.short(range.review),
          total: format.short(range.total),
          prs: formatCount(range.prs),
          exact: phaseSum(range, format),
        }
      : null,
  };
}
