import { describe, expect, it } from "@jest/globals";
import type { PullRequestExportRow } from "../../src/db/queries/metrics.js";
import { CSV_HEADER, stringifyCsvBatches } from "../../src/web/view-models/metrics-csv.js";
import { readCsvAsSpreadsheet } from "../support/csv.js";

// The CSV export's text, read back as a spreadsheet reads it: whatever a title holds, each pull
// request stays one row, and no cell starts a formula.

function row(title: string): PullRequestExportRow {
  return {
    id: 70,
    repoId: 1,
    authorId: 5,
    createdAtExact: "2024-02-19 09:00:00+00",
    repository: "acme/api",
    number: 7,
    title,
    author: "ada",
    byBot: false,
    state: "merged",
    draft: false,
    createdAt: "2024-02-19T09:00:00Z",
    readyForReviewAt: null,
    firstCommitAt: null,
    firstReviewAt: null,
    mergedAt: null,
    closedAt: null,
    cycleTimeHours: null,
    reviewTimeHours: null,
    codingPhaseHours: null,
    pickupPhaseHours: null,
    reviewPhaseHours: null,
    cycleTimeWorkingHours: null,
    reviewTimeWorkingHours: null,
    codingPhaseWorkingHours: null,
    pickupPhaseWorkingHours: null,
    reviewPhaseWorkingHours: null,
    additions: 1,
    deletions: 2,
    sizeLines: 3,
    isRevert: false,
    revertPatternMatch: false,
    isHotfix: false,
    teams: null,
    excludedReason: null,
  };
}

async function csvOf(titles: string[]): Promise<string> {
  async function* batches() {
    yield titles.map(row);
  }
  let text = "";
  for await (const chunk of stringifyCsvBatches(batches())) text += chunk;
  return text;
}

/** No comma or quote: nothing else in the title asks for quotes. */
const FORMULA = "=HYPERLINK(CONCAT(A1;B1))";

describe("a title with a line break and no comma or quote", () => {
  it.each([
    ["a bare LF", `Fix it\n${FORMULA}`],
    ["a bare CR", `Fix it\r${FORMULA}`],
    ["a CRLF", `Fix it\r\n${FORMULA}`],
    ["a formula after a CR and an LF", `Fix\rit\n${FORMULA}`],
  ])("%s: is quoted, stays in its row and cell, and starts no cell with a formula", async (_name, title) => {
    const rows = readCsvAsSpreadsheet(await csvOf([title, "plain"]));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual(CSV_HEADER);
    expect(rows.map((cells) => cells.length)).toEqual([
      CSV_HEADER.length,
      CSV_HEADER.length,
      CSV_HEADER.length,
    ]);
    const titleAt = CSV_HEADER.indexOf("title");
    expect(rows[1]![titleAt]).toBe(title);
    expect(rows[2]![titleAt]).toBe("plain");
    for (const cells of rows) for (const cell of cells) expect(cell).not.toMatch(/^[=+@]/);
  });
});
