import type { PullRequestState } from "../db/schema/pull-requests.js";
import type { ReviewState } from "../db/schema/reviews.js";
import { defaultInstallationSettings } from "../settings.js";
import { computeExcludedReason, type ExclusionFacts, type ExclusionSettings } from "./exclusions.js";
import { compilePattern } from "./patterns.js";
import { hoursOf, workingHoursBetween, type WorkingTime } from "./working-hours.js";

export interface ReviewFacts {
  reviewerId: number | null;
  reviewerLogin: string | null;
  reviewerType: string | null;
  state: ReviewState;
  submittedAt: Date | null;
}

export interface CommitFacts {
  message: string;
  authoredAt: Date | null;
  committedAt: Date | null;
}

export interface PullRequestFacts {
  title: string;
  body: string | null;
  headRef: string;
  baseRef: string;
  labels: readonly string[] | null;
  authorId: number | null;
  authorLogin: string | null;
  createdAt: Date;
  mergedAt: Date | null;
  /** The last ready-for-review event; null when the pull request was never a draft. */
  readyForReviewAt?: Date | null;
  reviews: readonly ReviewFacts[];
  commits: readonly CommitFacts[];
}

/** The installation's patterns (settings.ts); the hotfix ones default to the built-in rule. */
export interface HotfixPatterns {
  hotfixBranchPattern: string;
  hotfixTitlePattern: string;
  revertTitlePattern?: string;
}

/** The settings a pull request's derived values depend on: patterns, working time, exclusions. */
export type DerivationSettings = HotfixPatterns & WorkingTime & ExclusionSettings;

export interface PullRequestMetrics extends FirstReview {
  firstCommitAt: Date | null;
  cycleTimeHours: number | null;
  reviewTimeHours: number | null;
  codingPhaseHours: number | null;
  pickupPhaseHours: number | null;
  reviewPhaseHours: number | null;
  /** The same durations in working hours (src/metrics/working-hours.ts). */
  cycleTimeWorkingHours: number | null;
  reviewTimeWorkingHours: number | null;
  codingPhaseWorkingHours: number | null;
  pickupPhaseWorkingHours: number | null;
  reviewPhaseWorkingHours: number | null;
  isRevert: boolean;
  revertPatternMatch: boolean;
  isHotfix: boolean;
  /** Why the installation's exclusions leave it out of every figure; null: it counts. */
  excludedReason: string | null;
}

/** merged wins over GitHub's closed: GitHub reports a merged pull request as "closed". */
export function derivePullRequestState(githubState: string, mergedAt: Date | null): PullRequestState {
  if (mergedAt) return "merged";
  return githubState.toLowerCase() === "open" ? "open" : "closed";
}

export function isBot(login: string | null, type: string | null): boolean {
  return type === "Bot" || (login?.endsWith("[bot]") ?? false);
}

/**
 * Whether a commit's author is a bot: its linked login or its name ends in [bot]
 * (github-actions[bot], dependabot[bot]), or its address is a bot's no-reply address on GitHub
 * (49699333+dependabot[bot]@users.noreply.github.com). GitHub links no account to a bot's commits,
 * so the name and address are usually all there is.
 */
export function isBotCommitAuthor(author: {
  authorLogin: string | null;
  authorName: string | null;
  authorEmail: string | null;
}): boolean {
  return (
    isBot(author.authorLogin, null) ||
    (author.authorName?.toLowerCase().endsWith("[bot]") ?? false) ||
    /\[bot\]@users\.noreply\./i.test(author.authorEmail ?? "")
  );
}

/** The first review of a pull request: when, and by whom (null for a deleted account). */
export interface FirstReview {
  firstReviewAt: Date | null;
  firstReviewerId: number | null;
}

/**
 * The earliest submitted review by someone other than the author and not a bot. Of reviews
 * submitted in the same second, the first listed is the first review.
 */
export function computeFirstReview(
  facts: Pick<PullRequestFacts, "authorId" | "authorLogin" | "reviews">,
): FirstReview {
  let first: ReviewFacts | null = null;
  for (const review of facts.reviews) {
    if (review.state === "pending" || !review.submittedAt) continue;
    if (isBot(review.reviewerLogin, review.reviewerType)) continue;
    const byAuthor =
      (facts.authorId !== null && review.reviewerId === facts.authorId) ||
      (facts.authorId === null && facts.authorLogin !== null && review.reviewerLogin === facts.authorLogin);
    if (byAuthor) continue;
    if (!first || review.submittedAt < first.submittedAt!) first = review;
  }
  return { firstReviewAt: first?.submittedAt ?? null, firstReviewerId: first?.reviewerId ?? null };
}

/** Author date, not committer date: a rebase rewrites the latter. */
export function computeFirstCommitAt(commits: readonly CommitFacts[]): Date | null {
  let first: Date | null = null;
  for (const commit of commits) {
    const at = commit.authoredAt ?? commit.committedAt;
    if (at && (!first || at < first)) first = at;
  }
  return first;
}

export function hoursBetween(from: Date, to: Date | null): number | null {
  if (!to) return null;
  return hoursOf(to.getTime() - from.getTime());
}

/** How long from one instant to another: calendar hours, or working hours. */
type Measure = (from: Date, to: Date | null) => number | null;

/** A phase's length; a phase whose end came first (a commit after review began) is 0. */
function phaseLength(measure: Measure, from: Date | null, to: Date | null): number | null {
  if (!from || !to) return null;
  return Math.max(0, measure(from, to)!);
}

export interface CycleTimePhases {
  codingPhaseHours: number | null;
  pickupPhaseHours: number | null;
  reviewPhaseHours: number | null;
}

/** The instants each phase runs between. */
interface PhaseFacts {
  createdAt: Date;
  readyForReviewAt?: Date | null;
  firstCommitAt: Date | null;
  firstReviewAt: Date | null;
  mergedAt: Date | null;
}

/**
 * Cycle time in three phases: coding (first commit → ready for review), pickup (ready for review →
 * first review), review (first review → merge). Ready for review is the last ready-for-review event,
 * or else the creation time. Measured in calendar hours unless another measure is given.
 */
export function computeCycleTimePhases(facts: PhaseFacts, measure: Measure = hoursBetween): CycleTimePhases {
  const ready = facts.readyForReviewAt ?? facts.createdAt;
  return {
    codingPhaseHours: phaseLength(measure, facts.firstCommitAt, ready),
    pickupPhaseHours: phaseLength(measure, ready, facts.firstReviewAt),
    reviewPhaseHours: facts.mergedAt ? phaseLength(measure, facts.firstReviewAt, facts.mergedAt) : null,
  };
}

type WorkingDurations = Pick<
  PullRequestMetrics,
  | "cycleTimeWorkingHours"
  | "reviewTimeWorkingHours"
  | "codingPhaseWorkingHours"
  | "pickupPhaseWorkingHours"
  | "reviewPhaseWorkingHours"
>;

/** Every duration in working hours: the same intervals as the calendar ones, inside working time only. */
export function computeWorkingDurations(facts: PhaseFacts, time: WorkingTime): WorkingDurations {
  const measure: Measure = (from, to) => workingHoursBetween(from, to, time);
  const phases = computeCycleTimePhases(facts, measure);
  return {
    cycleTimeWorkingHours: measure(facts.createdAt, facts.mergedAt),
    reviewTimeWorkingHours: measure(facts.createdAt, facts.firstReviewAt),
    codingPhaseWorkingHours: phases.codingPhaseHours,
    pickupPhaseWorkingHours: phases.pickupPhaseHours,
    reviewPhaseWorkingHours: phases.reviewPhaseHours,
  };
}

const REVERT_MARKER = "This reverts commit";

export function isRevertPullRequest(facts: Pick<PullRequestFacts, "title" | "body" | "commits">): boolean {
  if (facts.title.startsWith('Revert "')) return true;
  if (facts.body?.includes(REVERT_MARKER)) return true;
  return facts.commits.some((commit) => commit.message.includes(REVERT_MARKER));
}

export function isHotfixPullRequest(
  facts: Pick<PullRequestFacts, "title" | "headRef">,
  patterns: HotfixPatterns = defaultInstallationSettings,
): boolean {
  const branch = compilePattern(
    patterns.hotfixBranchPattern,
    defaultInstallationSettings.hotfixBranchPattern,
  );
  const title = compilePattern(patterns.hotfixTitlePattern, defaultInstallationSettings.hotfixTitlePattern);
  return branch.test(facts.headRef) || title.test(facts.title);
}

/** The installation's own revert pattern over the title (is_revert keeps the fixed rule). */
export function matchesRevertPattern(
  facts: Pick<PullRequestFacts, "title">,
  patterns: HotfixPatterns,
): boolean {
  return compilePattern(patterns.revertTitlePattern ?? "").test(facts.title);
}

/** The stored fields a pull request's derived values are computed from (see computeDerivedMetrics). */
export interface DerivationFacts extends ExclusionFacts {
  title: string;
  createdAt: Date;
  readyForReviewAt?: Date | null;
  mergedAt: Date | null;
  firstCommitAt: Date | null;
  firstReviewAt: Date | null;
}

export type DerivedMetrics = Omit<
  PullRequestMetrics,
  "firstReviewAt" | "firstReviewerId" | "firstCommitAt" | "isRevert"
>;

/**
 * What a pull request's dates, title and branch make of it under the installation's settings:
 * durations (in calendar and in working hours), hotfix, revert by pattern, exclusion. The full recompute
 * after new settings runs this alone over the stored columns; the first review, the first commit
 * and the fixed revert rule come from the reviews and commits, which settings do not change.
 */
export function computeDerivedMetrics(facts: DerivationFacts, settings: DerivationSettings): DerivedMetrics {
  return {
    cycleTimeHours: hoursBetween(facts.createdAt, facts.mergedAt),
    reviewTimeHours: hoursBetween(facts.createdAt, facts.firstReviewAt),
    ...computeCycleTimePhases(facts),
    ...computeWorkingDurations(facts, settings),
    revertPatternMatch: matchesRevertPattern(facts, settings),
    isHotfix: isHotfixPullRequest(facts, settings),
    excludedReason: computeExcludedReason(facts, settings),
  };
}

export function computePullRequestMetrics(
  facts: PullRequestFacts,
  settings: DerivationSettings = defaultInstallationSettings,
): PullRequestMetrics {
  const { firstReviewAt, firstReviewerId } = computeFirstReview(facts);
  const firstCommitAt = computeFirstCommitAt(facts.commits);
  return {
    firstReviewAt,
    firstReviewerId,
    firstCommitAt,
    ...computeDerivedMetrics({ ...facts, firstCommitAt, firstReviewAt }, settings),
    isRevert: isRevertPullRequest(facts),
  };
}
