import { describe, expect, it } from "@jest/globals";
import { computeDerivedMetrics } from "../../src/metrics/pull-request.js";
import { parseClock, workingHoursBetween, type WorkingTime } from "../../src/metrics/working-hours.js";
import { defaultInstallationSettings } from "../../src/settings.js";

// Working hours are the overlap of an interval with the installation's working time, worked out by
// hand below from the calendar (2024-01-08 is a Monday; Berlin is UTC+1 in winter, UTC+2 in
// summer, and changes on 2024-03-31 02:00 → 03:00 and 2024-10-27 03:00 → 02:00).

const BERLIN: WorkingTime = {
  timezone: "Europe/Berlin",
  workDays: [1, 2, 3, 4, 5],
  workStart: "09:00",
  workEnd: "18:00",
  holidays: [],
};
const EVERY_DAY: WorkingTime = { ...BERLIN, workDays: [1, 2, 3, 4, 5, 6, 7] };
const ROUND_THE_CLOCK: WorkingTime = { ...EVERY_DAY, workStart: "00:00", workEnd: "24:00" };

describe("workingHoursBetween", () => {
  it.each<[string, WorkingTime, string, string, number]>([
    // Winter in Berlin: 09:00–18:00 local is 08:00–17:00 UTC.
    ["inside one working day", BERLIN, "2024-01-08T09:00:00Z", "2024-01-08T11:00:00Z", 2],
    ["starting before the day's hours", BERLIN, "2024-01-08T06:00:00Z", "2024-01-08T09:00:00Z", 1],
    ["ending after the day's hours", BERLIN, "2024-01-08T16:00:00Z", "2024-01-08T19:00:00Z", 1],
    ["overnight, an hour each side", BERLIN, "2024-01-08T16:00:00Z", "2024-01-09T09:00:00Z", 2],
    ["all of it outside hours", BERLIN, "2024-01-08T18:00:00Z", "2024-01-09T07:00:00Z", 0],
    [
      "over a weekend, Friday 17:00 to Monday 10:00",
      BERLIN,
      "2024-01-12T16:00:00Z",
      "2024-01-15T09:00:00Z",
      2,
    ],
    ["all of it on a weekend", BERLIN, "2024-01-13T09:00:00Z", "2024-01-14T17:00:00Z", 0],
    ["zero length", BERLIN, "2024-01-08T10:00:00Z", "2024-01-08T10:00:00Z", 0],
    ["two whole weeks: ten days of nine hours", BERLIN, "2024-01-08T08:00:00Z", "2024-01-22T08:00:00Z", 90],
    ["a full working day, to the minute", BERLIN, "2024-01-08T08:00:00Z", "2024-01-08T17:00:00Z", 9],
    ["twenty minutes, to hundredths", BERLIN, "2024-01-08T10:00:00Z", "2024-01-08T10:20:00Z", 0.33],
    ["half a hundredth rounds up", BERLIN, "2024-01-08T10:00:00Z", "2024-01-08T11:00:18Z", 1.01],
    [
      "an end before the start: negative, as in calendar hours",
      BERLIN,
      "2024-01-09T09:00:00Z",
      "2024-01-08T16:00:00Z",
      -2,
    ],
    [
      "a holiday in the week counts nothing",
      { ...BERLIN, holidays: ["2024-01-10"] },
      "2024-01-08T08:00:00Z",
      "2024-01-12T17:00:00Z",
      36,
    ],
    [
      "a holiday on a weekend changes nothing",
      { ...BERLIN, holidays: ["2024-01-13"] },
      "2024-01-08T08:00:00Z",
      "2024-01-15T08:00:00Z",
      45,
    ],
    [
      "a holiday is a date on the installation's calendar, not in UTC",
      // Wednesday 2024-01-10 in Tokyo (UTC+9) starts at 2024-01-09T15:00Z, on UTC's Tuesday.
      { ...BERLIN, timezone: "Asia/Tokyo", holidays: ["2024-01-10"] },
      "2024-01-09T00:00:00Z",
      "2024-01-10T15:00:00Z",
      9,
    ],
    // Spring forward (Sunday 2024-03-31): Friday 09:00 CET to Tuesday 09:00 CEST is 95 calendar hours.
    ["across spring forward, Mon–Fri", BERLIN, "2024-03-29T08:00:00Z", "2024-04-02T07:00:00Z", 18],
    [
      "the 23-hour day itself, 09:00–18:00 CEST",
      EVERY_DAY,
      "2024-03-31T00:00:00Z",
      "2024-04-01T00:00:00Z",
      9,
    ],
    ["the 23-hour day, round the clock", ROUND_THE_CLOCK, "2024-03-30T23:00:00Z", "2024-03-31T22:00:00Z", 23],
    // Fall back (Sunday 2024-10-27).
    ["across fall back, Mon–Fri", BERLIN, "2024-10-25T07:00:00Z", "2024-10-29T08:00:00Z", 18],
    ["the 25-hour day itself, 09:00–18:00 CET", EVERY_DAY, "2024-10-27T00:00:00Z", "2024-10-28T00:00:00Z", 9],
    ["the 25-hour day, round the clock", ROUND_THE_CLOCK, "2024-10-26T22:00:00Z", "2024-10-27T23:00:00Z", 25],
    // US spring forward (2024-03-10): Friday 17:00 EST (22:00Z) to Monday 10:00 EDT (14:00Z).
    [
      "New York across its own spring forward",
      { ...BERLIN, timezone: "America/New_York" },
      "2024-03-08T22:00:00Z",
      "2024-03-11T14:00:00Z",
      2,
    ],
    // Monday 08:00–12:00 in Auckland (UTC+13) is still Sunday in UTC.
    [
      "a zone a day ahead of UTC's date",
      { ...BERLIN, timezone: "Pacific/Auckland" },
      "2024-01-14T19:00:00Z",
      "2024-01-14T23:00:00Z",
      3,
    ],
    [
      "a half-hour offset",
      { ...BERLIN, timezone: "Asia/Kolkata" },
      "2024-01-08T03:00:00Z",
      "2024-01-08T13:00:00Z",
      9,
    ],
    [
      "a day ending at 24:00",
      { ...BERLIN, timezone: "UTC", workStart: "12:00", workEnd: "24:00" },
      "2024-01-12T00:00:00Z",
      "2024-01-15T13:00:00Z",
      13,
    ],
    [
      "a work week of Sunday to Thursday",
      { ...BERLIN, timezone: "Asia/Jerusalem", workDays: [7, 1, 2, 3, 4] },
      // Friday 2024-01-12 00:00 to Sunday 2024-01-14 12:00 in Jerusalem (UTC+2): only Sunday 09:00–12:00.
      "2024-01-11T22:00:00Z",
      "2024-01-14T10:00:00Z",
      3,
    ],
  ])("%s", (_name, time, from, to, hours) => {
    expect(workingHoursBetween(new Date(from), new Date(to), time)).toBe(hours);
  });

  it("has no length without an end", () => {
    expect(workingHoursBetween(new Date("2024-01-08T10:00:00Z"), null, BERLIN)).toBeNull();
  });

  it("a year and a half open: 78 weeks less nothing, every week 45 hours", () => {
    // Monday 2024-01-08 09:00 CET to Monday 2025-07-07 09:00 CEST: 78 weeks, across three changes.
    expect(
      workingHoursBetween(new Date("2024-01-08T08:00:00Z"), new Date("2025-07-07T07:00:00Z"), BERLIN),
    ).toBe(78 * 45);
  });
});

describe("parseClock", () => {
  it.each<[string, number | null]>([
    ["09:00", 540],
    ["00:00", 0],
    ["24:00", 1440],
    ["23:59", 1439],
    ["24:01", null],
    ["9:00", null],
    ["09:60", null],
    ["", null],
  ])("%s", (text, minutes) => {
    expect(parseClock(text)).toBe(minutes);
  });
});

describe("computeDerivedMetrics in working hours", () => {
  // Opened Friday 17:00 CET, first commit Friday 12:00, first review Monday 10:00, merged Tuesday 11:00.
  const facts = {
    title: "Add search",
    headRef: "feature/search",
    baseRef: "main",
    labels: [],
    authorLogin: "alice",
    createdAt: new Date("2024-01-12T16:00:00Z"),
    firstCommitAt: new Date("2024-01-12T11:00:00Z"),
    firstReviewAt: new Date("2024-01-15T09:00:00Z"),
    mergedAt: new Date("2024-01-16T10:00:00Z"),
  };

  it("measures each duration over the same interval as its calendar twin", () => {
    const metrics = computeDerivedMetrics(facts, {
      ...defaultInstallationSettings,
      timezone: "Europe/Berlin",
    });
    expect(metrics).toMatchObject({
      cycleTimeHours: 90,
      cycleTimeWorkingHours: 1 + 9 + 2,
      reviewTimeHours: 65,
      reviewTimeWorkingHours: 1 + 1,
      codingPhaseHours: 5,
      codingPhaseWorkingHours: 5,
      pickupPhaseHours: 65,
      pickupPhaseWorkingHours: 2,
      reviewPhaseHours: 25,
      reviewPhaseWorkingHours: 8 + 2,
    });
  });

  it("a phase whose end came first is 0 in working hours too", () => {
    const metrics = computeDerivedMetrics(
      { ...facts, firstCommitAt: new Date("2024-01-15T08:30:00Z") },
      { ...defaultInstallationSettings, timezone: "Europe/Berlin" },
    );
    expect(metrics.codingPhaseHours).toBe(0);
    expect(metrics.codingPhaseWorkingHours).toBe(0);
  });
});
