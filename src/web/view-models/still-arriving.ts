import type { Db } from "../../db/client.js";
import { countStillArriving } from "../../db/queries/repositories.js";
import { FIRST_WINDOW_DAYS } from "../../sync/backfill.js";

/**
 * The metrics page's line on what the backfills still bring, so early figures are read as early:
 * null once every tracked repository is in.
 */
export function stillArrivingText(counts: {
  repositories: number;
  firstWindows: number;
  deeper: number;
}): string | null {
  const parts: string[] = [];
  if (counts.firstWindows > 0) {
    parts.push(
      `last ${FIRST_WINDOW_DAYS} days of ${counts.firstWindows} of ${counts.repositories} repositories`,
    );
  }
  if (counts.deeper > 0) {
    parts.push(`history beyond ${FIRST_WINDOW_DAYS} days for ${counts.deeper}`);
  }
  return parts.length === 0 ? null : `Still arriving: ${parts.join("; ")}.`;
}

/** What the backfills still bring: the line, and whether any is unfinished (the page then polls). */
export async function readStillArriving(
  db: Db,
  installationId: number,
): Promise<{ text: string | null; unfinished: boolean }> {
  const counts = await countStillArriving(db, installationId);
  return { text: stillArrivingText(counts), unfinished: counts.firstWindows + counts.deeper > 0 };
}
