import { describe, expect, it } from "@jest/globals";
import { affectedWeeks, isTimeZone, weekStartOf, type DatedPullRequest } from "../../src/metrics/weeks.js";

const t = (iso: string) => new Date(iso);

describe("weekStartOf", () => {
  it.each<[string, string, string, string]>([
    ["a Monday at midnight", "2024-01-08T00:00:00Z", "UTC", "2024-01-08"],
    ["the last instant of a Sunday", "2024-01-14T23:59:59.999Z", "UTC", "2024-01-08"],
    ["a Wednesday", "2024-01-10T12:00:00Z", "UTC", "2024-01-08"],
    ["a week across a month end", "2024-03-02T10:00:00Z", "UTC", "2024-02-26"],
    ["a week across a year end", "2025-01-01T10:00:00Z", "UTC", "2024-12-30"],
    ["a leap day", "2024-02-29T10:00:00Z", "UTC", "2024-02-26"],
    // 2024-01-14 is a Sunday in UTC; at 20:00 UTC it is already Monday 09:00 in Auckland (UTC+13).
    [
      "a UTC Sunday night that is Monday in Auckland",
      "2024-01-14T20:00:00Z",
      "Pacific/Auckland",
      "2024-01-15",
    ],
    ["the same instant in UTC", "2024-01-14T20:00:00Z", "UTC", "2024-01-08"],
    // Monday 02:00 UTC is still Sunday evening in Los Angeles (UTC-8).
    [
      "a UTC Monday that is Sunday in Los Angeles",
      "2024-01-15T02:00:00Z",
      "America/Los_Angeles",
      "2024-01-08",
    ],
    ["a zone with a half-hour offset", "2024-01-14T18:45:00Z", "Asia/Kolkata", "2024-01-15"],
    ["a zone with a 45-minute offset", "2024-01-14T18:14:00Z", "Asia/Kathmandu", "2024-01-08"],
    ["a zone with a 45-minute offset, past midnight", "2024-01-14T18:15:00Z", "Asia/Kathmandu", "2024-01-15"],
    // US spring forward: Sunday 2024-03-10 02:00 PST → 03:00 PDT.
    ["Sunday just after US spring forward", "2024-03-10T10:30:00Z", "America/New_York", "2024-03-04"],
    ["the Monday after US spring forward", "2024-03-11T04:00:00Z", "America/New_York", "2024-03-11"],
    [
      "the last Sunday minute after US spring forward",
      "2024-03-11T03:59:00Z",
      "America/New_York",
      "2024-03-04",
    ],
    // US fall back: Sunday 2024-11-03 02:00 EDT → 01:00 EST, so that Sunday has 25 hours.
    ["the repeated hour of US fall back", "2024-11-03T06:30:00Z", "America/New_York", "2024-10-28"],
    ["the last Sunday minute after US fall back", "2024-11-04T04:59:00Z", "America/New_York", "2024-10-28"],
    ["the Monday after US fall back", "2024-11-04T05:00:00Z", "America/New_York", "2024-11-04"],
    // Europe: Sunday 2024-03-31 02:00 CET → 03:00 CEST; Monday starts at 22:00 UTC.
    ["Sunday night before the EU switch week", "2024-03-31T21:59:00Z", "Europe/Berlin", "2024-03-25"],
    ["Monday after the EU switch", "2024-03-31T22:00:00Z", "Europe/Berlin", "2024-04-01"],
    // Auckland's DST ends Sunday 2024-04-07 03:00 NZDT → 02:00 NZST; Monday starts 12:00 UTC Sunday.
    ["Sunday in Auckland after DST ends", "2024-04-07T11:59:00Z", "Pacific/Auckland", "2024-04-01"],
    ["Monday in Auckland after DST ends", "2024-04-07T12:00:00Z", "Pacific/Auckland", "2024-04-08"],
    // Samoa skipped 2011-12-30 (a Friday) entirely when it moved across the date line.
    ["the day Samoa skipped a Friday", "2011-12-30T10:00:00Z", "Pacific/Apia", "2011-12-26"],
    ["Samoa's Monday after the skip", "2012-01-01T10:00:00Z", "Pacific/Apia", "2012-01-02"],
  ])("%s: %s in %s is in the week of %s", (_label, instant, timeZone, expected) => {
    expect(weekStartOf(t(instant), timeZone)).toBe(expected);
  });

  it("answers an instant asked again as it did the first time, in each zone apart, past the entries it keeps", () => {
    // Every hour of 2024 (8,784: across both DST switches) in two zones, then again, then once
    // more after another 12,000 instants have pushed the first ones out.
    const hours = Array.from({ length: 8784 }, (_, h) => new Date(Date.UTC(2024, 0, 1) + h * 3_600_000));
    const zones = ["Europe/Berlin", "Pacific/Auckland"];
    const first = zones.map((zone) => hours.map((hour) => weekStartOf(hour, zone)));
    expect(new Set(first[0]).size).toBe(53);
    expect(first[0]).not.toEqual(first[1]);
    expect(zones.map((zone) => hours.map((hour) => weekStartOf(new Date(hour), zone)))).toEqual(first);
    for (let i = 0; i < 12_000; i++) weekStartOf(new Date(Date.UTC(2030, 0, 1) + i * 60_000), zones[0]!);
    expect(zones.map((zone) => hours.map((hour) => weekStartOf(hour, zone)))).toEqual(first);
  });

  it("rejects a zone Intl does not know instead of guessing", () => {
    expect(() => weekStartOf(t("2024-01-08T00:00:00Z"), "Mars/Olympus_Mons")).toThrow(RangeError);
  });
});

describe("affectedWeeks", () => {
  const pr = (patch: Partial<DatedPullRequest>): DatedPullRequest => ({
    createdAt: t("2024-01-10T12:00:00Z"),
    mergedAt: null,
    closedAt: null,
    ...patch,
  });

  it.each<[string, DatedPullRequest[], string, string[]]>([
    ["no pull requests", [], "UTC", []],
    ["an open pull request", [pr({})], "UTC", ["2024-01-08"]],
    [
      "a pull request merged two weeks later",
      [pr({ mergedAt: t("2024-01-24T09:00:00Z"), closedAt: t("2024-01-24T09:00:00Z") })],
      "UTC",
      ["2024-01-08", "2024-01-22"],
    ],
    [
      "a pull request closed unmerged",
      [pr({ closedAt: t("2024-01-16T09:00:00Z") })],
      "UTC",
      ["2024-01-08", "2024-01-15"],
    ],
    [
      "its first review week",
      [pr({ firstReviewAt: t("2024-01-15T09:00:00Z") })],
      "UTC",
      ["2024-01-08", "2024-01-15"],
    ],
    [
      "duplicates across pull requests, sorted",
      [
        pr({ createdAt: t("2024-02-01T00:00:00Z") }),
        pr({ mergedAt: t("2024-02-02T00:00:00Z"), closedAt: t("2024-02-02T00:00:00Z") }),
        pr({ createdAt: t("2023-12-31T00:00:00Z") }),
      ],
      "UTC",
      ["2023-12-25", "2024-01-08", "2024-01-29"],
    ],
    [
      "a Sunday-night merge that is Monday in Auckland",
      [pr({ mergedAt: t("2024-01-14T20:00:00Z"), closedAt: t("2024-01-14T20:00:00Z") })],
      "Pacific/Auckland",
      ["2024-01-08", "2024-01-15"],
    ],
  ])("%s", (_label, prs, timeZone, expected) => {
    expect(affectedWeeks(prs, timeZone)).toEqual(expected);
  });
});

describe("isTimeZone", () => {
  it.each([
    ["UTC", true],
    ["Europe/Berlin", true],
    ["America/Argentina/Buenos_Aires", true],
    ["Etc/GMT+1", true],
    ["Europe/Kiev", true],
    // Offsets: Intl takes them, Postgres reads them with east and west swapped.
    ["+01:00", false],
    ["-05:00", false],
    ["+0100", false],
    ["+01", false],
    ["", false],
    ["Mars/Olympus_Mons", false],
    ["Europe/Berlin\u0000", false],
    ["x".repeat(65), false],
  ])("%s: %s", (zone, expected) => {
    expect(isTimeZone(zone)).toBe(expected);
  });
});
