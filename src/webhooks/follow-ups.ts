import { AsyncLocalStorage } from "node:async_hooks";
import type { PgBoss } from "pg-boss";
import { withTransaction, type Database, type Db } from "../db/client.js";
import { touchRepository } from "../db/queries/repositories.js";
import type { DatedPullRequest } from "../metrics/weeks.js";
import { enqueueMany } from "../queue/boss.js";
import type { JobData } from "../queue/catalog.js";
import { queueWeeklyRefresh } from "../sync/weekly.js";

/**
 * What a pull request event leaves to do once its rows are committed: fetch the reviews and
 * commits its payload lacks, mark the weeks it counts in for a refresh, and move its repository up
 * the repositories page.
 *
 * The webhook worker runs a batch of deliveries inside `gatherFollowUps` and does the follow-ups of
 * all of them at once, in the transaction that records their outcome: one statement for every
 * refresh, one per installation for the weeks, instead of four transactions per delivery. A handler
 * run outside a batch does its own at once. A crash before that transaction commits leaves the
 * deliveries unprocessed: their jobs run again and leave the same follow-ups.
 */
export class FollowUps {
  readonly #refreshes = new Map<string, JobData<"refreshPullRequest">>();
  readonly #weeks = new Map<number, { timeZone: string; prs: DatedPullRequest[] }>();
  readonly #activity = new Map<number, Date>();

  /** Fetch the pull request's reviews and commits from GitHub (once, however many events). */
  refresh(job: JobData<"refreshPullRequest">): void {
    this.#refreshes.set(`${job.installationId}:${job.pullRequestId}`, job);
  }

  /** The weeks these pull requests count in (before and after a change) need their metrics again. */
  countWeeks(installationId: number, timeZone: string, prs: readonly DatedPullRequest[]): void {
    const entry = this.#weeks.get(installationId) ?? { timeZone, prs: [] };
    entry.prs.push(...prs);
    this.#weeks.set(installationId, entry);
  }

  /** The repository saw activity at `at` (the latest moment wins). */
  touch(repoId: number, at: Date): void {
    const known = this.#activity.get(repoId);
    if (!known || known < at) this.#activity.set(repoId, at);
  }

  get empty(): boolean {
    return this.#refreshes.size === 0 && this.#weeks.size === 0 && this.#activity.size === 0;
  }

  merge(other: FollowUps): void {
    for (const job of other.#refreshes.values()) this.refresh(job);
    for (const [installationId, { timeZone, prs }] of other.#weeks)
      this.countWeeks(installationId, timeZone, prs);
    for (const [repoId, at] of other.#activity) this.touch(repoId, at);
  }

  /**
   * Does them all in the caller's transaction. Shared rows are locked in one order (weeks by
   * installation, then repositories by id), so two batches wait for each other, never deadlock.
   */
  async apply(boss: PgBoss, db: Db): Promise<void> {
    await enqueueMany(boss, "refreshPullRequest", [...this.#refreshes.values()], { tx: db });
    for (const [installationId, { timeZone, prs }] of [...this.#weeks].sort(byKey)) {
      await queueWeeklyRefresh(boss, db, installationId, timeZone, prs);
    }
    for (const [repoId, at] of [...this.#activity].sort(byKey)) await touchRepository(db, repoId, at);
  }
}

const byKey = <T>([a]: [number, T], [b]: [number, T]) => a - b;

const batchScope = new AsyncLocalStorage<FollowUps>();

/** Runs `work` (the handlers of a batch of deliveries); the follow-ups they leave land in `into`. */
export function gatherFollowUps<T>(into: FollowUps, work: () => Promise<T>): Promise<T> {
  return batchScope.run(into, work);
}

/** A handler's follow-ups: handed to its batch when it runs in one, else done now. */
export async function leaveFollowUps(
  deps: { database: Pick<Database, "db">; boss: PgBoss },
  followUps: FollowUps,
): Promise<void> {
  if (followUps.empty) return;
  const batch = batchScope.getStore();
  if (batch) {
    batch.merge(followUps);
    return;
  }
  await withTransaction(deps.database, (db) => followUps.apply(deps.boss, db));
}
