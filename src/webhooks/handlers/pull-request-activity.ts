import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import { withTransaction, type Database, type Db } from "../../db/client.js";
import { findInstallations } from "../../db/queries/installations.js";
import {
  findStoredPullRequests,
  findStoredReviews,
  upsertPullRequestKeys,
  upsertReviews,
  type StoredReview,
} from "../../db/queries/pull-requests.js";
import { findRepositories } from "../../db/queries/repositories.js";
import type { Installation, NewPullRequestRow, NewReviewRow, Repository } from "../../db/schema/index.js";
import { parseInstallationSettings } from "../../settings.js";
import { recomputePullRequests } from "../../sync/recompute.js";
import type { FollowUps } from "../follow-ups.js";
import type { PullRequestEvent, PullRequestReviewEvent } from "../payloads.js";
import { pullRequestRowFromWebhook, reviewRowFromWebhook } from "../transforms.js";
import {
  isCurrentRepository,
  refreshJob,
  resolveKnownRepository,
  type KnownRepository,
} from "./known-repository.js";

/** A pull_request or pull_request_review delivery: nearly all of the traffic. */
export type PullRequestActivity =
  | { event: "pull_request"; payload: PullRequestEvent }
  | { event: "pull_request_review"; payload: PullRequestReviewEvent };

/**
 * pull_request.* and pull_request_review.*, for any number of deliveries at once, in the caller's
 * transaction. What each delivery does, as if they were handled one after another in their order:
 *
 * - pull_request: stores the pull request as the payload has it, never older than what is stored
 *   (GitHub's updated_at is the version); if it was written, its metrics are recomputed, the weeks
 *   it counts in (before and after) refreshed, and its repository moved up the repositories page.
 * - pull_request_review: stores the review (a dismissed review stays dismissed; a pending one is a
 *   draft only its author sees, and is not stored) and the pull request it belongs to (a review can
 *   arrive before the pull request's own events); metrics and the weeks of the first review, before
 *   and after, follow whether or not the pull request changed.
 * - both: the pull request's reviews and commits, which payloads lack, are refreshed from GitHub.
 *   Repositories an admin untracked, and uninstalled installations, are left alone.
 *
 * Set-based: one statement per table for the whole set, instead of a transaction per delivery.
 * The deliveries of one pull request (or review) are folded in memory in their order under the
 * same rules, starting from what is stored, so the rows stored are those one-by-one processing
 * gives. Follow-ups land in `followUps` (src/webhooks/follow-ups.ts), for the caller to do once.
 */
export async function applyPullRequestActivity(
  boss: PgBoss,
  db: Db,
  activities: readonly PullRequestActivity[],
  followUps: FollowUps,
): Promise<void> {
  if (activities.length === 0) return;
  // 1. What is stored of the installations, repositories, pull requests and reviews: one round trip.
  const stored = await readStored(db, activities);
  // 2. Each delivery's repository; one not stored as it stands is created or restored first.
  const known = await resolveRepositories(boss, db, activities, stored);
  // 3. The deliveries of each pull request and review folded in their order.
  const { pullRequests, reviews } = fold(activities, known, stored, followUps);
  // 4. One statement per table (sent together: one round trip).
  const [written] = await Promise.all([
    upsertPullRequestKeys(
      db,
      [...pullRequests.values()].flatMap((pr) => (pr.row ? [pr.row] : [])),
    ),
    upsertReviews(db, [...reviews.values()]),
  ]);
  // 5. Metrics of what changed, and the weeks and repositories that follow from them.
  await recompute(db, pullRequests, new Set(written.map(keyOf)), stored, followUps);
}

/**
 * Creates or restores, each in a transaction of its own and in id order, the repositories (and
 * installations) of these deliveries that are not stored as they stand, before the deliveries are
 * applied. Applying them then locks pull requests before repositories, as a backfill page does: a
 * repository created in the same transaction would be locked first, and a writer holding those
 * pull requests and waiting for that repository would deadlock with it. Creating one is
 * the same whatever becomes of the deliveries. What fails here is left to applying them, which
 * resolves the repository again in its transaction and fails that delivery alone.
 */
export async function prepareRepositories(
  boss: PgBoss,
  database: Pick<Database, "db">,
  activities: readonly PullRequestActivity[],
  log: Pick<Logger, "warn">,
): Promise<void> {
  const [installations, repositories] = await Promise.all([
    findInstallations(
      database.db,
      activities.map(({ payload }) => payload.installation.id),
    ),
    findRepositories(
      database.db,
      activities.map(({ payload }) => payload.repository.id),
    ),
  ]);
  const missing = new Map<number, PullRequestActivity["payload"]>();
  for (const { payload } of activities) {
    const installation = installations.get(payload.installation.id);
    const current =
      installation &&
      !installation.deletedAt &&
      isCurrentRepository(repositories.get(payload.repository.id), payload.installation.id);
    if (!current && !missing.has(payload.repository.id)) missing.set(payload.repository.id, payload);
  }
  for (const [repoId, payload] of [...missing].sort(([a], [b]) => a - b)) {
    try {
      await withTransaction(database, (db) => resolveKnownRepository(boss, db, payload));
    } catch (error) {
      log.warn({ err: error, repoId }, "repository not prepared; resolved with its deliveries");
    }
  }
}

interface Stored {
  installations: Map<number, Installation>;
  repositories: Map<number, Repository>;
  /** By `installationId:id`. */
  pullRequests: Map<string, Awaited<ReturnType<typeof findStoredPullRequests>>[number]>;
  reviews: Map<number, StoredReview>;
}

const keyOf = (pr: { installationId: number; id: number }) => `${pr.installationId}:${pr.id}`;

async function readStored(db: Db, activities: readonly PullRequestActivity[]): Promise<Stored> {
  const prIds = new Map<number, number[]>();
  for (const { payload } of activities) {
    const ids = prIds.get(payload.installation.id) ?? [];
    ids.push(payload.pull_request.id);
    prIds.set(payload.installation.id, ids);
  }
  const reviewIds = activities.flatMap((activity) =>
    activity.event === "pull_request_review" ? [activity.payload.review.id] : [],
  );
  // Sent together: in a transaction postgres.js pipelines them.
  const [installations, repositories, reviews, ...prs] = await Promise.all([
    findInstallations(
      db,
      activities.map(({ payload }) => payload.installation.id),
    ),
    findRepositories(
      db,
      activities.map(({ payload }) => payload.repository.id),
    ),
    findStoredReviews(db, reviewIds),
    ...[...prIds].map(async ([installationId, ids]) =>
      (await findStoredPullRequests(db, installationId, [...new Set(ids)])).map((pr) => ({
        ...pr,
        installationId,
      })),
    ),
  ]);
  return {
    installations,
    repositories,
    reviews,
    pullRequests: new Map(prs.flat().map((pr) => [keyOf(pr), pr])),
  };
}

/**
 * The known repository of each delivery (undefined: nothing to do). A repository and installation
 * stored as they stand are taken from the snapshot; any other case goes through
 * resolveKnownRepository, which creates or restores them, after which the snapshot of that
 * repository is no longer trusted.
 */
async function resolveRepositories(
  boss: PgBoss,
  db: Db,
  activities: readonly PullRequestActivity[],
  stored: Stored,
): Promise<(KnownRepository | undefined)[]> {
  const resolved = new Map<string, KnownRepository | undefined>();
  const rewritten = new Set<number>();
  const known: (KnownRepository | undefined)[] = [];
  for (const { payload } of activities) {
    const installationId = payload.installation.id;
    const key = `${installationId}:${payload.repository.id}`;
    if (!resolved.has(key)) {
      const installation = stored.installations.get(installationId);
      const repository = rewritten.has(payload.repository.id)
        ? undefined
        : stored.repositories.get(payload.repository.id);
      if (installation && !installation.deletedAt && isCurrentRepository(repository, installationId)) {
        const settings = parseInstallationSettings(installation.settings);
        resolved.set(key, { installationId, settings, repository });
      } else {
        rewritten.add(payload.repository.id);
        resolved.set(key, await resolveKnownRepository(boss, db, payload));
      }
    }
    known.push(resolved.get(key));
  }
  return known;
}

interface PullRequestFold {
  id: number;
  known: KnownRepository;
  /** The version stored or last accepted: a delivery older than this changes nothing. */
  version: number | undefined;
  /** The accepted deliveries' rows merged in order; undefined if none was accepted. */
  row: NewPullRequestRow | undefined;
  /** updated_at of its last accepted pull_request delivery: the repository's latest activity. */
  activeAt: Date | undefined;
  /** A review delivery recomputes and refreshes the weeks whether or not the pull request changed. */
  reviewed: boolean;
}

function fold(
  activities: readonly PullRequestActivity[],
  known: readonly (KnownRepository | undefined)[],
  stored: Stored,
  followUps: FollowUps,
) {
  const pullRequests = new Map<string, PullRequestFold>();
  const reviews = new Map<number, NewReviewRow>();
  for (const [index, activity] of activities.entries()) {
    const repo = known[index];
    if (!repo?.repository.tracked) continue;
    const pr = activity.payload.pull_request;
    const key = keyOf({ installationId: repo.installationId, id: pr.id });
    const entry = pullRequests.get(key) ?? {
      id: pr.id,
      known: repo,
      version: stored.pullRequests.get(key)?.updatedAt.getTime(),
      row: undefined,
      activeAt: undefined,
      reviewed: false,
    };
    pullRequests.set(key, entry);
    const row = pullRequestRowFromWebhook(pr, repo.installationId, repo.repository.id);
    // The payload has no ready_for_review_at; the event itself is that moment.
    if (activity.event === "pull_request" && activity.payload.action === "ready_for_review") {
      row.readyForReviewAt = new Date(pr.updated_at);
    }
    // The freshness guard of upsertPullRequests: an equal version is written again.
    if (entry.version === undefined || row.updatedAt.getTime() >= entry.version) {
      entry.row = mergeDefined(entry.row, row);
      entry.version = row.updatedAt.getTime();
      if (activity.event === "pull_request") entry.activeAt = row.updatedAt;
    }
    if (activity.event === "pull_request_review") {
      entry.reviewed = true;
      foldReview(reviews, stored.reviews, activity.payload, repo);
    }
    followUps.refresh(refreshJob(repo, pr));
  }
  return { pullRequests, reviews };
}

/** Keys a row leaves undefined keep what the rows before it set (upsertPullRequests keeps them too). */
function mergeDefined(before: NewPullRequestRow | undefined, row: NewPullRequestRow): NewPullRequestRow {
  if (!before) return row;
  const merged: Record<string, unknown> = { ...before };
  for (const [key, value] of Object.entries(row)) if (value !== undefined) merged[key] = value;
  return merged as NewPullRequestRow;
}

/** upsertReviews's rules, applied in memory: the review as the last delivery that may change it has it. */
function foldReview(
  reviews: Map<number, NewReviewRow>,
  stored: Map<number, StoredReview>,
  payload: PullRequestReviewEvent,
  repo: KnownRepository,
): void {
  const row = reviewRowFromWebhook(
    payload.review,
    repo.installationId,
    payload.pull_request.id,
    repo.repository.id,
  );
  if (payload.action === "dismissed") row.state = "dismissed";
  // Pending reviews are drafts only their author sees; they become reviews when submitted.
  if (row.state === "pending") return;
  const current = reviews.get(row.id) ?? stored.get(row.id);
  if (current?.state === "dismissed" && row.state !== "dismissed") return;
  reviews.set(row.id, { ...row, submittedAt: row.submittedAt ?? current?.submittedAt ?? null });
}

/** Recomputes, per installation, the pull requests written or reviewed, and leaves their follow-ups. */
async function recompute(
  db: Db,
  pullRequests: Map<string, PullRequestFold>,
  written: Set<string>,
  stored: Stored,
  followUps: FollowUps,
): Promise<void> {
  const byInstallation = new Map<number, { known: KnownRepository; ids: number[] }>();
  for (const [key, pr] of pullRequests) {
    const isWritten = written.has(key);
    if (!isWritten && !pr.reviewed) continue;
    const entry = byInstallation.get(pr.known.installationId) ?? { known: pr.known, ids: [] };
    entry.ids.push(pr.id);
    byInstallation.set(pr.known.installationId, entry);
    // The repositories page lists the most recently active first.
    if (isWritten && pr.activeAt) followUps.touch(pr.known.repository.id, pr.activeAt);
  }
  await Promise.all(
    [...byInstallation.values()].map(async ({ known, ids }) => {
      const after = await recomputePullRequests(db, known.installationId, ids, known.settings);
      const before = ids.flatMap(
        (id) => stored.pullRequests.get(keyOf({ installationId: known.installationId, id })) ?? [],
      );
      // The weeks they counted in before and count in now; review time counts in the week of the first review.
      followUps.countWeeks(known.installationId, known.settings.timezone, [...after, ...before]);
    }),
  );
}
