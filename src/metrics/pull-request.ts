import type { PullRequestState } from "../db/schema/pull-requests.js";
import type { ReviewState } from "../db/schema/reviews.js";
import { defaultInstallationSettings } from "../settings.js";

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
  authorId: number | null;
  authorLogin: string | null;
  createdAt: Date;
  mergedAt: Date | null;
  reviews: readonly ReviewFacts[];
  commits: readonly CommitFacts[];
}

export interface HotfixPatterns {
  hotfixBranchPattern: string;
  hotfixTitlePattern: string;
}

export interface PullRequestMetrics {
  firstReviewAt: Date | null;
  firstCommitAt: Date | null;
  cycleTimeHours: number | null;
  reviewTimeHours: number | null;
  isRevert: boolean;
  isHotfix: boolean;
}

const MS_PER_HOUR = 3_600_000;

/** merged wins over GitHub's closed: GitHub reports a merged pull request as "closed". */
export function derivePullRequestState(githubState: string, mergedAt: Date | null): PullRequestState {
  if (mergedAt) return "merged";
  return githubState.toLowerCase() === "open" ? "open" : "closed";
}

export function isBot(login: string | null, type: string | null): boolean {
  return type === "Bot" || (login?.endsWith("[bot]") ?? false);
}

/** Earliest submitted review by someone other than the author and not a bot. */
export function computeFirstReviewAt(
  facts: Pick<PullRequestFacts, "authorId" | "authorLogin" | "reviews">,
): Date | null {
  let first: Date | null = null;
  for (const review of facts.reviews) {
    if (review.state === "pending" || !review.submittedAt) continue;
    if (isBot(review.reviewerLogin, review.reviewerType)) continue;
    const byAuthor =
      (facts.authorId !== null && review.reviewerId === facts.authorId) ||
      (facts.authorId === null && facts.authorLogin !== null && review.reviewerLogin === facts.authorLogin);
    if (byAuthor) continue;
    if (!first || review.submittedAt < first) first = review.submittedAt;
  }
  return first;
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
  return Math.round(((to.getTime() - from.getTime()) / MS_PER_HOUR) * 100) / 100;
}

const REVERT_MARKER = "This reverts commit";

export function isRevertPullRequest(facts: Pick<PullRequestFacts, "title" | "body" | "commits">): boolean {
  if (facts.title.startsWith('Revert "')) return true;
  if (facts.body?.includes(REVERT_MARKER)) return true;
  return facts.commits.some((commit) => commit.message.includes(REVERT_MARKER));
}

const patternCache = new Map<string, RegExp>();

/** Patterns are admin input: an invalid one falls back to the default instead of failing the sync. */
function compilePattern(source: string, fallback: string): RegExp {
  const cached = patternCache.get(source);
  if (cached) return cached;
  let pattern: RegExp;
  try {
    pattern = new RegExp(source, "i");
  } catch {
    pattern = new RegExp(fallback, "i");
  }
  patternCache.set(source, pattern);
  return pattern;
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

export function computePullRequestMetrics(
  facts: PullRequestFacts,
  patterns: HotfixPatterns = defaultInstallationSettings,
): PullRequestMetrics {
  const firstReviewAt = computeFirstReviewAt(facts);
  return {
    firstReviewAt,
    firstCommitAt: computeFirstCommitAt(facts.commits),
    cycleTimeHours: hoursBetween(facts.createdAt, facts.mergedAt),
    reviewTimeHours: hoursBetween(facts.createdAt, firstReviewAt),
    isRevert: isRevertPullRequest(facts),
    isHotfix: isHotfixPullRequest(facts, patterns),
  };
}
