import { describe, expect, it } from "@jest/globals";
import { niceCeiling, niceHoursCeiling } from "../../src/web/view-models/metrics-charts.js";
import { formatHours, formatWorkingHours, parseMetricsQuery } from "../../src/web/view-models/metrics.js";
import { describeWorkDays } from "../../src/web/view-models/working-time.js";

// The metrics page's pure parts: reading its query string, and how durations read.
const THIS_WEEK = "2024-03-04";

describe("formatHours", () => {
  it.each<[number | null, string]>([
    [null, "–"],
    [0, "0 min"],
    [0.25, "15 min"],
    [0.999, "1 h"],
    [1, "1 h"],
    [7, "7 h"],
    [7.25, "7.3 h"],
    [9.96, "10 h"],
    [14, "14 h"],
    [23.9, "24 h"],
    [24, "1 d"],
    [36, "1.5 d"],
    [54, "2.3 d"],
    [239, "10 d"],
    [24 * 45.4, "45 d"],
  ])("%s hours → %s", (hours, text) => {
    expect(formatHours(hours)).toBe(text);
  });
});

describe("formatWorkingHours", () => {
  // Never in days: a working day is not 24 hours, and its own length would be a second definition.
  it.each<[number | null, string]>([
    [null, "–"],
    [0, "0 min"],
    [0.5, "30 min"],
    [7.25, "7.3 h"],
    [24, "24 h"],
    [63.4, "63 h"],
  ])("%s working hours → %s", (hours, text) => {
    expect(formatWorkingHours(hours)).toBe(text);
  });
});

describe("describeWorkDays", () => {
  it.each<[number[], string]>([
    [[1, 2, 3, 4, 5], "Mon–Fri"],
    [[1, 2, 3, 4, 5, 6, 7], "Mon–Sun"],
    [[1, 2], "Mon, Tue"],
    [[7, 1, 2, 3, 4], "Mon–Thu, Sun"],
    [[1, 3, 5], "Mon, Wed, Fri"],
  ])("%j → %s", (days, text) => {
    expect(describeWorkDays(days)).toBe(text);
  });
});

describe("parseMetricsQuery", () => {
  it.each<
    [
      string,
      Record<string, unknown>,
      { from: string; to: string; repoId?: number; teamId?: number; includeBots?: boolean },
    ]
  >([
    ["the default: the last 12 weeks", {}, { from: "2023-12-18", to: THIS_WEEK }],
    ["a preset", { range: "4" }, { from: "2024-02-12", to: THIS_WEEK }],
    ["a year", { range: "52" }, { from: "2023-03-13", to: THIS_WEEK }],
    [
      "a custom range, each day standing for its week",
      { range: "custom", from: "2024-01-10", to: "2024-01-21" },
      { from: "2024-01-08", to: "2024-01-15" },
    ],
    [
      "dates alone make a custom range",
      { from: "2024-01-08", to: "2024-01-08" },
      { from: "2024-01-08", to: "2024-01-08" },
    ],
    [
      "dates beside a preset are not used",
      { range: "4", from: "2020-01-01", to: "x" },
      { from: "2024-02-12", to: THIS_WEEK },
    ],
    [
      "a repository and bots",
      { repo: "42", bots: "include" },
      { from: "2023-12-18", to: THIS_WEEK, repoId: 42, includeBots: true },
    ],
    [
      "empty values, as a form sends them",
      { range: "", repo: "", team: "", bots: "" },
      { from: "2023-12-18", to: THIS_WEEK },
    ],
    ["a team", { team: "3253328" }, { from: "2023-12-18", to: THIS_WEEK, teamId: 3253328 }],
    ["everyone", { team: "all" }, { from: "2023-12-18", to: THIS_WEEK }],
  ])("reads %s", (_name, raw, expected) => {
    const { query, errors } = parseMetricsQuery(raw, THIS_WEEK);
    expect(errors).toEqual({});
    expect(query).toMatchObject({ repoId: undefined, teamId: undefined, includeBots: false, ...expected });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["an unknown preset", { range: "3" }, "range"],
    ["a preset as an array", { range: ["4", "12"] }, "range"],
    ["an object", { repo: { id: 1 } }, "repo"],
    ["a negative repository", { repo: "-1" }, "repo"],
    ["a huge text", { from: "2".repeat(1000), range: "custom" }, "from"],
    ["an end before the start", { range: "custom", from: "2024-02-01", to: "2024-01-01" }, "to"],
    ["a missing end", { range: "custom", from: "2024-02-01" }, "to"],
    ["an end after this week", { range: "custom", from: "2024-02-01", to: "2024-03-11" }, "to"],
    ["a bots value that is not the box's", { bots: "true" }, "bots"],
    ["a team by name", { team: "platform" }, "team"],
    ["two teams", { team: ["1", "2"] }, "team"],
  ])("refuses %s, naming the field", (_name, raw, field) => {
    const { query, errors, form } = parseMetricsQuery(raw, THIS_WEEK);
    expect(query).toBeNull();
    expect(Object.keys(errors)).toEqual([field]);
    expect(form.from.length).toBeLessThanOrEqual(100);
  });
});

describe("chart scales", () => {
  it.each<[number, number]>([
    [0, 1],
    [1, 1],
    [3, 5],
    [12, 20],
    [21, 25],
    [180, 200],
  ])("a count axis for %s ends at %s", (value, max) => {
    expect(niceCeiling(value)).toBe(max);
  });

  it.each<[number, number]>([
    [5, 5],
    [30, 50],
    [49, 60], // beyond two days the axis counts days: 2.5 d
    [100, 120],
    [400, 480],
  ])("a time axis for %s hours ends at %s", (hours, max) => {
    expect(niceHoursCeiling(hours)).toBe(max);
  });
});
