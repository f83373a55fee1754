import type { InstallationSettings } from "../settings.js";
import { parseCalendarDate } from "./range.js";

/**
 * Working time: the hours of an installation's work week, on its wall clock, less its non-working
 * dates. A duration in working hours is the overlap of its interval with that time, in real
 * elapsed time: a working day of 09:00–18:00 is nine hours long whether its date has 23, 24 or 25
 * hours (the clocks change at night), and a span that contains the change is an hour shorter or
 * longer, as it was lived.
 *
 * A wall time the clocks skip (02:30 on a spring-forward night) is read with the offset before
 * the jump, so it falls just after it; a wall time that happens twice counts from its first
 * occurrence (RFC 5545, Temporal's "compatible", and Postgres's `at time zone` in the gap).
 */

/** What working time is made of: the installation's settings of that name. */
export type WorkingTime = Pick<
  InstallationSettings,
  "timezone" | "workDays" | "workStart" | "workEnd" | "holidays"
>;

const MS_PER_MINUTE = 60_000;
const MS_PER_HUNDREDTH = 36_000;
const MS_PER_DAY = 86_400_000;
const CLOCK = /^(\d{2}):(\d{2})$/;

/** Minutes after midnight of a wall-clock time "HH:MM" (00:00–24:00), or null when it is not one. */
export function parseClock(text: string): number | null {
  const match = CLOCK.exec(text);
  if (!match) return null;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  return Number(match[2]) < 60 && minutes <= 24 * 60 ? minutes : null;
}

// One formatter per zone: building one loads the zone's data.
const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's offset from UTC at an instant, in ms (east positive), to the second. */
function offsetAt(instant: number, timeZone: string): number {
  let formatter = offsetFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      calendar: "gregory",
      numberingSystem: "latn",
    });
    offsetFormatters.set(timeZone, formatter);
  }
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(instant)) parts[part.type] = Number(part.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a wall-clock time (ms since 1970-01-01 00:00 on the zone's clock) happens. Real
 * zones change their offset at most once in two days, so the offsets a day either side are the
 * only candidates.
 */
function instantOf(wall: number, timeZone: string): number {
  const before = offsetAt(wall - MS_PER_DAY, timeZone);
  const after = offsetAt(wall + MS_PER_DAY, timeZone);
  const valid = [wall - before, wall - after].filter(
    (instant) => offsetAt(instant, timeZone) === wall - instant,
  );
  return valid.length > 0 ? Math.min(...valid) : wall - before;
}

/** A working day's time as instants [start, end), or null for a day off. */
type Span = readonly [number, number] | null;

/** The working time of one installation's settings, with each day's span worked out once. */
class WorkingCalendar {
  readonly #spans = new Map<number, Span>();
  readonly #days: ReadonlySet<number>;
  readonly #holidays: ReadonlySet<number>;
  readonly #start: number;
  readonly #end: number;

  constructor(readonly time: WorkingTime) {
    this.#days = new Set(time.workDays);
    this.#holidays = new Set(
      time.holidays.flatMap((date) => {
        const day = parseCalendarDate(date);
        return day === null ? [] : [day / MS_PER_DAY];
      }),
    );
    this.#start = parseClock(time.workStart) ?? 0;
    this.#end = parseClock(time.workEnd) ?? 0;
  }

  /** The span of a local date, counted in days since 1970-01-01 (a Thursday). */
  span(day: number): Span {
    let span = this.#spans.get(day);
    if (span === undefined) {
      const isoWeekday = ((((day + 3) % 7) + 7) % 7) + 1;
      const works = this.#days.has(isoWeekday) && !this.#holidays.has(day) && this.#start < this.#end;
      const midnight = day * MS_PER_DAY;
      span = works
        ? [
            instantOf(midnight + this.#start * MS_PER_MINUTE, this.time.timezone),
            instantOf(midnight + this.#end * MS_PER_MINUTE, this.time.timezone),
          ]
        : null;
      this.#spans.set(day, span);
    }
    return span;
  }

  /** Working ms in [from, to); negative when `to` comes first, as the calendar duration would be. */
  workingMs(from: number, to: number): number {
    if (to < from) return -this.workingMs(to, from) || 0;
    let total = 0;
    // Offsets are within a day of UTC: an instant's local date is its UTC date or one either side.
    const last = Math.floor(to / MS_PER_DAY) + 1;
    for (let day = Math.floor(from / MS_PER_DAY) - 1; day <= last; day++) {
      const span = this.span(day);
      if (span) total += Math.max(0, Math.min(to, span[1]) - Math.max(from, span[0]));
    }
    return total;
  }
}

/** Calendars by settings, most recently used last: a sync or a recompute reuses one across its rows. */
const calendars = new Map<string, WorkingCalendar>();
/** A few installations' calendars at a time, each a few hundred kB at most for decades of days. */
const CALENDAR_CACHE_SIZE = 16;

function calendarOf(time: WorkingTime): WorkingCalendar {
  const key = JSON.stringify([time.timezone, time.workDays, time.workStart, time.workEnd, time.holidays]);
  let calendar = calendars.get(key);
  if (calendar) calendars.delete(key);
  else calendar = new WorkingCalendar(time);
  calendars.set(key, calendar);
  if (calendars.size > CALENDAR_CACHE_SIZE) calendars.delete(calendars.keys().next().value!);
  return calendar;
}

/**
 * The working hours between two instants, rounded to hundredths as the calendar hours are; null
 * without an end, negative when the end comes first.
 */
export function workingHoursBetween(from: Date, to: Date | null, time: WorkingTime): number | null {
  if (!to) return null;
  return hoursOf(calendarOf(time).workingMs(from.getTime(), to.getTime()));
}

/**
 * Milliseconds as hours rounded to hundredths, as every duration is stored (numeric(12,2)):
 * hundredths counted from whole ms, halves away from zero. 1 h 0 min 18 s is 1.01 h, and 17 min
 * 6 s is 0.29 h, where ms / 3,600,000 * 100 lands just below the half and rounds down.
 */
export function hoursOf(ms: number): number {
  return (Math.sign(ms) * Math.round(Math.abs(ms) / MS_PER_HUNDREDTH)) / 100 || 0;
}
