import type { PullRequestExportRow, PullRequestPage } from "../../db/queries/metrics.js";
import type { TeamListing } from "../../db/queries/teams.js";
import type { FigureName } from "../../figures.js";

/**
 * The JSON of the read API (/api/v1): names in snake_case as the SQL views (pr_pulse_v1) and the
 * CSV columns write them, numbers as numbers. Version 1 never changes a field's meaning.
 */

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
const hours = (value: string | null) => (value === null ? null : Number(value));

/** One pull request, with the values of the CSV export. */
export function pullRequestJson(row: PullRequestExportRow) {
  return {
    id: row.id,
    repo_id: row.repoId,
    repository: row.repository,
    number: row.number,
    title: row.title,
    author: row.author,
    author_id: row.authorId,
    author_is_bot: row.byBot,
    state: row.state,
    draft: row.draft,
    created_at: row.createdAt,
    first_commit_at: row.firstCommitAt,
    ready_for_review_at: row.readyForReviewAt,
    first_review_at: row.firstReviewAt,
    merged_at: row.mergedAt,
    closed_at: row.closedAt,
    cycle_time_hours: hours(row.cycleTimeHours),
    review_time_hours: hours(row.reviewTimeHours),
    coding_phase_hours: hours(row.codingPhaseHours),
    pickup_phase_hours: hours(row.pickupPhaseHours),
    review_phase_hours: hours(row.reviewPhaseHours),
    cycle_time_working_hours: hours(row.cycleTimeWorkingHours),
    review_time_working_hours: hours(row.reviewTimeWorkingHours),
    coding_phase_working_hours: hours(row.codingPhaseWorkingHours),
    pickup_phase_working_hours: hours(row.pickupPhaseWorkingHours),
    review_phase_working_hours: hours(row.reviewPhaseWorkingHours),
    additions: row.additions,
    deletions: row.deletions,
    size_lines: row.sizeLines,
    is_revert: row.isRevert,
    revert_pattern_match: row.revertPatternMatch,
    is_hotfix: row.isHotfix,
    teams: row.teams ? row.teams.split(" ") : [],
  };
}

/** Where the next page starts: opaque to clients, the last row's place in the export's order. */
export function encodeCursor(row: PullRequestExportRow): string {
  return Buffer.from(JSON.stringify([row.createdAtExact, row.id])).toString("base64url");
}

/** Postgres's text of a timestamptz, as createdAtExact holds it. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

/** A cursor given back, or null when it is not one this API wrote. */
export function decodeCursor(cursor: string): PullRequestPage["after"] | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [createdAtExact, id] = value as unknown[];
    if (typeof createdAtExact !== "string" || !TIMESTAMP.test(createdAtExact)) return null;
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0) return null;
    return { createdAtExact, id };
  } catch {
    return null;
  }
}

/** A week's (or the range's) figures under their weekly_metrics column names. */
export function figuresJson(figures: Partial<Record<FigureName, number | null>>) {
  return Object.fromEntries(Object.entries(figures).map(([name, value]) => [snakeCase(name), value ?? null]));
}

export function teamJson(team: TeamListing) {
  return {
    id: team.id,
    slug: team.slug,
    name: team.name,
    description: team.description,
    parent_id: team.parentId,
    depth: team.depth,
    members: team.members,
    direct_members: team.directMembers,
    sub_teams: team.subTeams,
  };
}
