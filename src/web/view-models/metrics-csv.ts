import { stringify, type Options } from "csv-stringify/sync";
import type { PullRequestExportRow } from "../../db/queries/metrics.js";
import { lastDayOfWeek } from "../../metrics/range.js";
import type { MetricsQuery } from "./metrics.js";

/**
 * The CSV export of the metrics page: one record per pull request with the figures its weekly
 * rows are computed from, so a spreadsheet can check every number on the page.
 */

type CsvValue = string | number | null;

const COLUMNS: [string, (row: PullRequestExportRow) => CsvValue][] = [
  ["repository", (row) => row.repository],
  ["number", (row) => row.number],
  ["title", (row) => row.title],
  ["author", (row) => row.author],
  ["author_is_bot", (row) => flag(row.byBot)],
  ["state", (row) => row.state],
  ["draft", (row) => flag(row.draft)],
  ["created_at", (row) => row.createdAt],
  ["first_commit_at", (row) => row.firstCommitAt],
  ["ready_for_review_at", (row) => row.readyForReviewAt],
  ["first_review_at", (row) => row.firstReviewAt],
  ["merged_at", (row) => row.mergedAt],
  ["closed_at", (row) => row.closedAt],
  ["cycle_time_hours", (row) => hours(row.cycleTimeHours)],
  ["review_time_hours", (row) => hours(row.reviewTimeHours)],
  ["coding_phase_hours", (row) => hours(row.codingPhaseHours)],
  ["pickup_phase_hours", (row) => hours(row.pickupPhaseHours)],
  ["review_phase_hours", (row) => hours(row.reviewPhaseHours)],
  ["additions", (row) => row.additions],
  ["deletions", (row) => row.deletions],
  ["size_lines", (row) => row.sizeLines],
  ["is_revert", (row) => flag(row.isRevert)],
  ["revert_pattern_match", (row) => flag(row.revertPatternMatch)],
  ["is_hotfix", (row) => flag(row.isHotfix)],
  // Added after the first release: new columns go last, so a spreadsheet reading by position keeps working.
  ["teams", (row) => row.teams ?? ""],
  ["cycle_time_working_hours", (row) => hours(row.cycleTimeWorkingHours)],
  ["review_time_working_hours", (row) => hours(row.reviewTimeWorkingHours)],
  ["coding_phase_working_hours", (row) => hours(row.codingPhaseWorkingHours)],
  ["pickup_phase_working_hours", (row) => hours(row.pickupPhaseWorkingHours)],
  ["review_phase_working_hours", (row) => hours(row.reviewPhaseWorkingHours)],
  // Empty for a counted pull request; excluded ones are listed only with `excluded=include`.
  ["excluded_reason", (row) => row.excludedReason ?? ""],
];

function flag(value: boolean): string {
  return value ? "true" : "false";
}

/** A number, so that escape_formulas never takes a (never expected) negative duration for a formula. */
function hours(value: string | null): number | null {
  return value === null ? null : Number(value);
}

export const CSV_HEADER = COLUMNS.map(([name]) => name);

export function toCsvRecord(row: PullRequestExportRow): CsvValue[] {
  return COLUMNS.map(([, value]) => value(row));
}

/**
 * RFC 4180 (fields with a comma, quote or line break quoted, quotes doubled, CRLF between records),
 * and no formulas: a text field that starts with =, +, -, @, tab or CR (say, a pull request titled
 * `=HYPERLINK(...)`) gets a leading apostrophe, so a spreadsheet shows it as text.
 *
 * `quote_record_delimiter`: with CRLF between records, csv-stringify quotes only fields holding a
 * whole CRLF. A spreadsheet also starts a new row at a bare CR or LF, whose text after it would be a
 * cell of its own, unescaped (a title "x\n=HYPERLINK(...)"): every field with a CR or LF is quoted.
 */
export const CSV_OPTIONS: Options = {
  header: true,
  columns: CSV_HEADER,
  record_delimiter: "windows",
  quote_record_delimiter: true,
  escape_formulas: true,
};

/**
 * The CSV text of the batches, a chunk per batch (the header first, even without any record).
 * Each batch is turned into text at once, so its rows die young: streamed record by record, they
 * lived across a few hundred awaits, and 100,000 of them grew the heap by 140 MB of garbage.
 */
export async function* stringifyCsvBatches(batches: AsyncIterable<PullRequestExportRow[]>) {
  let header = true;
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    yield stringify(batch.map(toCsvRecord), { ...CSV_OPTIONS, header });
    header = false;
  }
  if (header) yield stringify([], CSV_OPTIONS);
}

/** pr-pulse-acme-2024-01-08-to-2024-03-31.csv (first and last day): an ASCII name any browser and shell take as is. */
export function csvFilename(accountLogin: string, query: MetricsQuery, repository?: string): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, "_");
  const scope = repository ? safe(repository.replace("/", "-")) : safe(accountLogin);
  return `pr-pulse-${scope}-${query.from}-to-${lastDayOfWeek(query.to)}.csv`;
}
