import { EVENTS, type EventField } from "../figures.js";

/** Days from Monday, by the short English weekday Intl prints (weeks start Monday, as ISO 8601 and Postgres). */
const DAYS_FROM_MONDAY: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

const MS_PER_DAY = 86_400_000;

// Building a DateTimeFormat loads zone data: one per zone, reused for every date.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    // Throws a RangeError for a zone Intl does not know, rather than silently using UTC.
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      weekday: "short",
      calendar: "gregory",
      numberingSystem: "latn",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * The Monday (YYYY-MM-DD) of the week that contains `date` on the wall calendar of `timeZone`:
 * the same week Postgres computes with `date_trunc('week', ts at time zone tz)::date`.
 */
export function weekStartOf(date: Date, timeZone: string): string {
  const key = `${date.getTime()} ${timeZone}`;
  const known = weeksAnswered.get(key);
  if (known !== undefined) return known;
  const week = localWeekStart(date, timeZone);
  // The oldest entry makes room: a Map iterates in insertion order.
  if (weeksAnswered.size >= WEEKS_KEPT) weeksAnswered.delete(weeksAnswered.keys().next().value!);
  weeksAnswered.set(key, week);
  return week;
}

/**
 * Weeks already computed, by exact instant and zone (the last WEEKS_KEPT, about 1 MB whatever the
 * zones). A pull request's event times repeat in every delivery about it, and asking Intl
 * (`formatToParts`) for each was 2.4% of the event loop's busy time at 1,000 deliveries a second
 * (bench/RESULTS.md). Keyed by the instant itself, not a span of time, so no time zone's rules can
 * make an entry wrong.
 */
const weeksAnswered = new Map<string, string>();
const WEEKS_KEPT = 10_000;

function localWeekStart(date: Date, timeZone: string): string {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(date)) parts[part.type] = part.value;
  const fromMonday = DAYS_FROM_MONDAY[parts.weekday ?? ""];
  if (fromMonday === undefined) throw new Error(`Unexpected weekday "${parts.weekday}" from Intl`);
  // Calendar arithmetic on the local date, done in UTC where every day has 24 hours.
  const localDay = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day));
  return new Date(localDay - fromMonday * MS_PER_DAY).toISOString().slice(0, 10);
}

/** A pull request's event times (src/figures.ts EVENTS): the weeks it counts in. */
export type DatedPullRequest = { createdAt: Date } & Partial<Record<EventField, Date | null | undefined>>;

/** Sorted, unique week starts whose aggregates these pull requests count in. */
export function affectedWeeks(prs: readonly DatedPullRequest[], timeZone: string): string[] {
  const weeks = new Set<string>();
  for (const pr of prs) {
    for (const field of Object.values(EVENTS)) {
      const date = pr[field];
      if (date) weeks.add(weekStartOf(date, timeZone));
    }
  }
  return [...weeks].sort();
}

/**
 * An IANA zone's name starts with a letter ("UTC", "Europe/Berlin", "Etc/GMT+1"). Intl also takes
 * offsets such as "+01:00", which Postgres reads the POSIX way, east and west swapped: the same
 * instant would fall in different weeks in TypeScript and in SQL.
 */
const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;

/** Whether `value` is an IANA time zone the runtime knows ("UTC" included). */
export function isTimeZone(value: string): boolean {
  if (value.length === 0 || value.length > 64 || !IANA_NAME.test(value)) return false;
  try {
    formatterFor(value);
    return true;
  } catch {
    return false;
  }
}

/** Every IANA time zone the runtime knows, for a picker. */
export function timeZones(): string[] {
  return ["UTC", ...Intl.supportedValuesOf("timeZone").filter((zone) => zone !== "UTC")];
}
