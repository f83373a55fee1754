import { describe, expect, it } from "@jest/globals";
import { reviewShares } from "../../src/metrics/review-load.js";

describe("reviewShares", () => {
  it.each<
    [
      string,
      number[],
      {
        reviews: number;
        reviewers: number;
        topThree: number | null;
        topFifth: number | null;
        topFifthCount: number;
      },
    ]
  >([
    ["nobody reviewed", [], { reviews: 0, reviewers: 0, topThree: null, topFifth: null, topFifthCount: 0 }],
    [
      "one reviewer carries it all",
      [7],
      { reviews: 7, reviewers: 1, topThree: 1, topFifth: 1, topFifthCount: 1 },
    ],
    [
      "three or fewer: the top 3 are everyone",
      [1, 2, 1],
      { reviews: 4, reviewers: 3, topThree: 1, topFifth: 0.5, topFifthCount: 1 },
    ],
    [
      "in any order; people with no review are not reviewers",
      [1, 0, 5, 2, 0, 2],
      { reviews: 10, reviewers: 4, topThree: 0.9, topFifth: 0.5, topFifthCount: 1 },
    ],
    [
      "a fifth rounded up: 6 reviewers make 2",
      [10, 10, 5, 5, 5, 5],
      { reviews: 40, reviewers: 6, topThree: 0.625, topFifth: 0.5, topFifthCount: 2 },
    ],
    [
      "15 reviewers make 3, not 4 (15 × 0.2 is a hair above 3 in floating point)",
      [9, 8, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      { reviews: 36, reviewers: 15, topThree: 24 / 36, topFifth: 24 / 36, topFifthCount: 3 },
    ],
    [
      "even sharing: the top 20% give 20%",
      [2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
      { reviews: 20, reviewers: 10, topThree: 0.3, topFifth: 0.2, topFifthCount: 2 },
    ],
  ])("%s", (_name, counts, expected) => {
    expect(reviewShares(counts)).toEqual(expected);
  });
});
