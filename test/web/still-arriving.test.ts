import { describe, expect, it } from "@jest/globals";
import { stillArrivingText } from "../../src/web/view-models/still-arriving.js";

describe("the metrics page's line on what is still arriving", () => {
  it.each([
    [{ repositories: 50, firstWindows: 0, deeper: 0 }, null],
    [
      { repositories: 50, firstWindows: 12, deeper: 38 },
      "Still arriving: last 30 days of 12 of 50 repositories; history beyond 30 days for 38.",
    ],
    [{ repositories: 50, firstWindows: 0, deeper: 50 }, "Still arriving: history beyond 30 days for 50."],
    [{ repositories: 3, firstWindows: 3, deeper: 0 }, "Still arriving: last 30 days of 3 of 3 repositories."],
  ])("%j", (counts, text) => {
    expect(stillArrivingText(counts)).toBe(text);
  });
});
