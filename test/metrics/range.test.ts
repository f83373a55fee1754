import { describe, expect, it } from "@jest/globals";
import {
  addWeeks,
  countWeeks,
  lastDayOfWeek,
  listWeeks,
  mondayOf,
  parseCalendarDate,
} from "../../src/metrics/range.js";

describe("mondayOf", () => {
  it.each<[string, string | null]>([
    ["2024-01-08", "2024-01-08"], // a Monday
    ["2024-01-14", "2024-01-08"], // the Sunday that ends it
    ["2024-03-01", "2024-02-26"], // across a month end, in a leap year
    ["2025-01-01", "2024-12-30"], // across a year end
    ["2024-02-29", "2024-02-26"],
    ["2023-02-29", null], // not a leap year
    ["2024-13-01", null],
    ["2024-1-8", null],
    ["yesterday", null],
    ["", null],
  ])("%s → %s", (date, monday) => {
    expect(mondayOf(date)).toBe(monday);
  });
});

describe("week arithmetic", () => {
  it("counts and lists the weeks of a range, both ends included", () => {
    expect(countWeeks("2024-01-08", "2024-01-08")).toBe(1);
    expect(countWeeks("2024-01-08", "2024-03-04")).toBe(9);
    expect(countWeeks("2024-03-04", "2024-01-08")).toBe(0);
    expect(listWeeks("2024-12-23", "2025-01-06")).toEqual(["2024-12-23", "2024-12-30", "2025-01-06"]);
    expect(listWeeks("2024-01-15", "2024-01-08")).toEqual([]);
  });

  it("adds weeks across month, year and leap day", () => {
    expect(addWeeks("2024-02-26", 1)).toBe("2024-03-04");
    expect(addWeeks("2024-03-04", -51)).toBe("2023-03-13");
    expect(addWeeks("2024-12-30", 1)).toBe("2025-01-06");
    expect(lastDayOfWeek("2024-02-26")).toBe("2024-03-03");
  });

  it("refuses what is not a date", () => {
    expect(parseCalendarDate("2024-02-30")).toBeNull();
    expect(() => addWeeks("not a week", 1)).toThrow(TypeError);
  });
});
