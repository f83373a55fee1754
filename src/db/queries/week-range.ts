import { sql, type SQL } from "drizzle-orm";

/**
 * A range of weeks as every range query reads it (range medians, the CSV, review load): an event
 * is in the range when it happened in [its first Monday 00:00, the Monday after its last week
 * 00:00) on the installation's wall clock.
 */

/** A range of weeks on the installation's calendar, both ends included (Mondays, YYYY-MM-DD). */
export interface WeekRange {
  from: string;
  to: string;
  /** The installation's IANA zone: weeks start on its Monday midnight. */
  timeZone: string;
}

const WEEK_START = /^\d{4}-\d{2}-\d{2}$/;

function checkRange(range: WeekRange): void {
  if (!WEEK_START.test(range.from) || !WEEK_START.test(range.to)) {
    throw new TypeError(`Not week starts (YYYY-MM-DD): "${range.from}", "${range.to}"`);
  }
}

/** Local midnight of the range's first Monday, and of the Monday after its last week. */
export function rangeBounds(range: WeekRange): { low: SQL; high: SQL } {
  checkRange(range);
  const tz = sql`${range.timeZone}::text`;
  return {
    low: sql`(${range.from}::date::timestamp at time zone ${tz})`,
    high: sql`((${range.to}::date + 7)::timestamp at time zone ${tz})`,
  };
}
