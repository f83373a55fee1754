/**
 * Calendar arithmetic on week starts (YYYY-MM-DD Mondays, as weekStartOf returns them). Done in
 * UTC, where every day has 24 hours: a week start is a date on the installation's wall calendar,
 * not an instant, so its zone plays no part here.
 */

const MS_PER_DAY = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The calendar date of a YYYY-MM-DD text, or null when it is not one (2024-02-30, 2024-1-5). */
export function parseCalendarDate(text: string): number | null {
  const match = DATE.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const time = Date.UTC(year, month - 1, day);
  const date = new Date(time);
  // Date.UTC rolls 2024-02-30 over to March: a date that does not round-trip does not exist.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return null;
  }
  return time;
}

function format(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** The Monday of the week a calendar date (YYYY-MM-DD) falls in; null for a date that is not one. */
export function mondayOf(date: string): string | null {
  const time = parseCalendarDate(date);
  if (time === null) return null;
  // getUTCDay: Sunday 0 … Saturday 6; weeks start on Monday.
  const fromMonday = (new Date(time).getUTCDay() + 6) % 7;
  return format(time - fromMonday * MS_PER_DAY);
}

export function addWeeks(weekStart: string, weeks: number): string {
  const time = parseCalendarDate(weekStart);
  if (time === null) throw new TypeError(`Not a date (YYYY-MM-DD): "${weekStart}"`);
  return format(time + weeks * 7 * MS_PER_DAY);
}

/** How many weeks from `from` to `to`, both included (0 when `to` comes first). */
export function countWeeks(from: string, to: string): number {
  const start = parseCalendarDate(from);
  const end = parseCalendarDate(to);
  if (start === null || end === null) throw new TypeError(`Not dates (YYYY-MM-DD): "${from}", "${to}"`);
  return Math.max(0, Math.floor((end - start) / (7 * MS_PER_DAY)) + 1);
}

/** Every week start from `from` to `to`, both included, oldest first. */
export function listWeeks(from: string, to: string): string[] {
  return Array.from({ length: countWeeks(from, to) }, (_, index) => addWeeks(from, index));
}

/** The Sunday that ends the week starting on `weekStart`. */
export function lastDayOfWeek(weekStart: string): string {
  const time = parseCalendarDate(weekStart);
  if (time === null) throw new TypeError(`Not a date (YYYY-MM-DD): "${weekStart}"`);
  return format(time + 6 * MS_PER_DAY);
}
