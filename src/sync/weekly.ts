import type { PgBoss } from "pg-boss";
import type { Db } from "../db/client.js";
import type { NewPullRequestRow } from "../db/schema/index.js";
import { enqueue } from "../jobs/boss.js";
import { weekStartOf } from "../metrics/weeks.js";

type Dated = Pick<NewPullRequestRow, "createdAt" | "mergedAt" | "closedAt" | "firstReviewAt">;

/** Every week a pull request's figures count in: opened, merged or closed, first reviewed. */
export function pullRequestDates(pr: Dated): (Date | null | undefined)[] {
  return [pr.createdAt, pr.mergedAt, pr.closedAt, pr.firstReviewAt];
}

/** Queues the weekly aggregates of the weeks these pull requests touch, in the caller's transaction. */
export async function enqueueWeeklyRefresh(
  boss: PgBoss,
  db: Db,
  installationId: number,
  timeZone: string,
  prs: Dated[],
): Promise<void> {
  const weeks = new Set<string>();
  for (const date of prs.flatMap(pullRequestDates)) if (date) weeks.add(weekStartOf(date, timeZone));
  if (weeks.size === 0) return;
  await enqueue(boss, "refreshWeeklyMetrics", { installationId, weeks: [...weeks].sort() }, { tx: db });
}
