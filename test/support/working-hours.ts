import type { Sql } from "postgres";
import type { WorkingTime } from "../../src/metrics/working-hours.js";

// Working hours worked out by another engine: Postgres lays out every working day as
// `(local date + start) at time zone tz` to `(local date + end) at time zone tz` (its own zone
// data and its own DST rules) and sums each interval's overlap with those spans, in exact numeric
// arithmetic. The app computes them in TypeScript with Intl; the two must agree to the hundredth.
// An interval whose end comes first counts 0 here (a phase's rule; no cycle time ends before it
// starts in the data these tests make).

export interface ExpectedWorkingHours {
  id: number;
  number: number;
  cycle: number | null;
  reviewTime: number | null;
  coding: number | null;
  pickup: number | null;
  review: number | null;
}

/** Every stored pull request's five durations in working hours, from its stored instants. */
export async function expectedWorkingHours(
  sql: Sql,
  installationId: number,
  time: WorkingTime,
): Promise<ExpectedWorkingHours[]> {
  const overlap = (from: string, to: string) => `
    case when ${from} is null or ${to} is null then null else greatest(0, round(coalesce((
      select sum(extract(epoch from least(${to}, s.finish) - greatest(${from}, s.start)))
      from spans s where s.start < ${to} and s.finish > ${from}
    ), 0) / 3600, 2))::float8 end`;
  const rows = await sql.unsafe<ExpectedWorkingHours[]>(
    `
    with spans as (
      select (day + $2::interval) at time zone $4 as start, (day + $3::interval) at time zone $4 as finish
      from generate_series('2000-01-01'::timestamp, '2040-01-01'::timestamp, interval '1 day') as day
      where extract(isodow from day) = any($5::int[]) and day::date <> all($6::date[])
    ),
    prs as (
      select id, number, created_at, coalesce(ready_for_review_at, created_at) as ready,
             first_commit_at, first_review_at, merged_at
      from pull_requests where installation_id = $1
    )
    select id::int, number,
           ${overlap("created_at", "merged_at")} as cycle,
           ${overlap("created_at", "first_review_at")} as "reviewTime",
           ${overlap("first_commit_at", "ready")} as coding,
           ${overlap("ready", "first_review_at")} as pickup,
           case when merged_at is null then null else ${overlap("first_review_at", "merged_at")} end as review
    from prs order by id`,
    // Arrays as Postgres's text literals: the driver's array serialisers want typed parameters.
    [
      installationId,
      time.workStart,
      time.workEnd,
      time.timezone,
      `{${time.workDays.join(",")}}`,
      `{${time.holidays.join(",")}}`,
    ],
  );
  return [...rows];
}

/** The continuous median (as Postgres's percentile_cont(0.5)), rounded to hundredths; null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = (sorted.length - 1) / 2;
  const low = sorted[Math.floor(middle)]!;
  const high = sorted[Math.ceil(middle)]!;
  const value = low + (high - low) * (middle - Math.floor(middle));
  // As Postgres rounds the double it computed: to 15 significant digits first (1.015, not 1.01499…).
  return Math.round(Number((value * 100).toPrecision(15))) / 100;
}
