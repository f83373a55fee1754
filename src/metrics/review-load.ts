/**
 * How evenly reviewing is shared: of the reviews given in a period, the share the busiest reviewers
 * gave. Two cuts, printed on the pages beside the figures:
 *
 * - top 3: the three people who gave the most reviews (everyone, when three or fewer reviewed);
 * - top 20 %: the fifth of the reviewers who gave the most, rounded up (1 of 1–5 reviewers, 2 of
 *   6–10, …), so that the cut means the same in a team of 4 and in an organization of 400.
 *
 * Ties at the cut do not matter: the reviewers ranked in or out there gave the same number.
 */

export const TOP_REVIEWERS = 3;
/** The top 20 %: a fifth of the reviewers (divided, not multiplied by 0.2, which makes 15 × 0.2 > 3). */
const FIFTH = 5;

export interface ReviewShares {
  reviews: number;
  /** People who gave at least one review. */
  reviewers: number;
  /** Shares between 0 and 1; null when nobody reviewed. */
  topThree: number | null;
  topFifth: number | null;
  /** How many reviewers the top 20 % is. */
  topFifthCount: number;
}

/** The shares of the busiest reviewers, from each reviewer's number of reviews (any order). */
export function reviewShares(reviewsByReviewer: readonly number[]): ReviewShares {
  const counts = reviewsByReviewer.filter((count) => count > 0).sort((a, b) => b - a);
  const reviews = counts.reduce((sum, count) => sum + count, 0);
  const topFifthCount = Math.ceil(counts.length / FIFTH);
  const share = (top: number) =>
    reviews === 0 ? null : counts.slice(0, top).reduce((sum, count) => sum + count, 0) / reviews;
  return {
    reviews,
    reviewers: counts.length,
    topThree: share(TOP_REVIEWERS),
    topFifth: share(topFifthCount),
    topFifthCount,
  };
}
