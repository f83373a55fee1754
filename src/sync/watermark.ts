/**
 * A repository's watermark: every pull request version GitHub stamped before it is stored complete,
 * so a delta sync asks only for pull requests updated since. One home for the two rules that keep
 * it exact against GitHub's timestamps, which are whole seconds.
 */

/**
 * How long after GitHub stamps a change any read is sure to see it: our clock against GitHub's
 * (NTP keeps them well under a second apart) and GitHub's replicas catching up (usually well under
 * a second too), with a wide margin. The watermark trails each read by this much, so a change
 * stamped just before the read, or within the same second, is fetched again next time instead of
 * skipped; the price is a pull request updated in the last minute before a sync fetched twice.
 */
const SETTLE_MS = 60_000;

const SECOND_MS = 1000;

/**
 * Whether a pull request updated at `updatedAt` may be newer than what is stored: updated in the
 * watermark's second or later. A backfill's watermark is our clock to the millisecond while GitHub
 * stamps whole seconds, so `12:00:00` (really 12:00:00.8) counts against a watermark of 12:00:00.5.
 */
export function isSinceWatermark(updatedAt: string | Date, watermark: Date): boolean {
  return new Date(updatedAt).getTime() >= floorToSecond(watermark.getTime());
}

/** The watermark after a read that started at `readAt` stored everything since `previous`. */
export function advanceWatermark(previous: Date, readAt: Date): Date {
  return new Date(Math.max(previous.getTime(), settledBefore(readAt).getTime()));
}

/** The first watermark, for a backfill that started reading at `readAt` (webhooks cover the rest). */
export function settledBefore(readAt: Date): Date {
  return new Date(floorToSecond(readAt.getTime() - SETTLE_MS));
}

function floorToSecond(ms: number): number {
  return Math.floor(ms / SECOND_MS) * SECOND_MS;
}
