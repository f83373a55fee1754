import type { PgBoss } from "pg-boss";
import type { Db } from "../db/client.js";
import { touchRepositories } from "../db/queries/repositories.js";
import type { DatedPullRequest } from "../metrics/weeks.js";
import { enqueueMany } from "../queue/boss.js";
import type { JobData } from "../queue/catalog.js";
import { queueWeeklyRefresh } from "../sync/weekly.js";

/**
 * What pull request activity leaves to do once its rows are written: fetch the reviews and commits
 * its payloads lack, mark the weeks it counts in for a refresh, and move its repository up the
 * repositories page.
 *
 * The webhook worker gathers the follow-ups of a whole batch of deliveries and does them once, in
 * the transaction that records their outcome: one statement for every refresh, two per
 * installation for the weeks, one for the repositories. A crash before that transaction commits
 * leaves the deliveries unprocessed: their jobs run again and leave the same follow-ups.
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

  merge(other: FollowUps): void {
    for (const job of other.#refreshes.values()) this.refresh(job);
    for (const [installationId, { timeZone, prs }] of other.#weeks)
      this.countWeeks(installationId, timeZone, prs);
    for (const [repoId, at] of other.#activity) this.touch(repoId, at);
  }

  /**
   * Does them all in the caller's transaction, sent together (one round trip) as the last work
   * before its commit: every batch of an installation queues the same refresh job and touches the
   * same repositories, and holds them from then to its commit, so that moment is kept short. The
   * weeks' marks are rows of this batch's own (never waited for). Shared rows are locked in one
   * order (refresh jobs by pull request, then repositories by id, as a backfill page does), so
   * two writers wait for each other, never deadlock.
   */
  async apply(boss: PgBoss, db: Db): Promise<void> {
    const refreshes = [...this.#refreshes.values()].sort(
      (a, b) => a.installationId - b.installationId || a.pullRequestId - b.pullRequestId,
    );
    const weeksThenRepositories = async () => {
      for (const [installationId, { timeZone, prs }] of [...this.#weeks].sort(byKey)) {
        await queueWeeklyRefresh(boss, db, installationId, timeZone, prs);
      }
      await touchRepositories(
        db,
        [...this.#activity].map(([id, at]) => ({ id, at })),
      );
    };
    await Promise.all([
      enqueueMany(boss, "refreshPullRequest", refreshes, { tx: db }),
      weeksThenRepositories(),
    ]);
  }
}

const byKey = <T>([a]: [number, T], [b]: [number, T]) => a - b;
