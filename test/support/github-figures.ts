import type { PullRequest, Review, World } from "./fake-github/index.js";

// The metrics page's figures worked out from scratch from the fake GitHub's own data, for the
// end-to-end tests to compare the page with: which review is a first review, how Postgres's
// percentile_cont and round settle a percentile. Never read back from the app's tables or code,
// or a test would compare the app with itself.

export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

/** The Monday 00:00 UTC of a moment's week. */
export function mondayOf(ms: number): number {
  const day = Math.floor(ms / DAY_MS) * DAY_MS;
  return day - ((new Date(day).getUTCDay() + 6) % 7) * DAY_MS;
}

export const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Hours between two GitHub timestamps, in hundredths, as the app stores them (numeric(12,2)). */
export const hundredths = (from: string, to: string) =>
  Math.round((Date.parse(to) - Date.parse(from)) / 36_000);

/** Postgres's percentile_cont: linear interpolation between the two values around the fraction. */
function percentileCont(values: readonly number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = fraction * (sorted.length - 1);
  const low = sorted[Math.floor(at)]!;
  return low + (at - Math.floor(at)) * (sorted[Math.ceil(at)]! - low);
}

/**
 * percentile_cont of hundredths, rounded to hundredths as the page's exact title writes it: the
 * interpolation leaves a quarter, half or three quarters of a hundredth at worst, which round()
 * of a numeric takes away from zero (the durations are never negative).
 */
export function percentileHours(values: readonly number[], fraction: number): string | null {
  const value = percentileCont(values, fraction);
  return value === null ? null : `${(Math.round(value) / 100).toFixed(2)} hours`;
}

export const median = (values: readonly number[]) => percentileHours(values, 0.5);

/**
 * percentile_cont of whole numbers rounded to a whole number: round() of a double precision is
 * rint(), which takes a half to the even neighbour (2.5 is 2, 3.5 is 4).
 */
export function percentileWhole(values: readonly number[], fraction: number): number | null {
  const value = percentileCont(values, fraction);
  if (value === null) return null;
  const floor = Math.floor(value);
  if (value - floor !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

export const isBot = (world: World, userId: number) => world.getUser(userId)?.type === "Bot";

/** The reviews that count: submitted, by someone other than the author, not by a bot. */
export function submittedReviews(world: World, pr: PullRequest): Review[] {
  return pr.reviews.filter(
    (r) =>
      r.state !== "PENDING" &&
      r.submittedAt !== null &&
      r.authorId !== pr.authorId &&
      !isBot(world, r.authorId),
  );
}

/** The first of those, or null. */
export function firstReview(world: World, pr: PullRequest): Review | null {
  return submittedReviews(world, pr).reduce<Review | null>(
    (first, r) => (first === null || r.submittedAt! < first.submittedAt! ? r : first),
    null,
  );
}
