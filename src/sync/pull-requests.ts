import type { Db } from "../db/client.js";
import {
  findStoredDetails,
  findStoredPullRequests,
  replaceCommitLists,
  upsertCommits,
  upsertPullRequests,
  upsertReviews,
} from "../db/queries/pull-requests.js";
import type { NewCommitRow, NewPullRequestRow, NewReviewRow, Repository } from "../db/schema/index.js";
import { NotFoundError, ObjectNotFoundError } from "../errors.js";
import { failedNodeIndexes, type GitHubClient } from "../github/client.js";
import type { GqlCommit, GqlPullRequest, GqlReview } from "../github/queries.js";
import { computePullRequestMetrics, type DerivationSettings } from "../metrics/pull-request.js";
import { cleanOptionalText } from "../text.js";
import { withAdaptivePageSize } from "./page-size.js";
import type { SyncContext } from "./sync-context.js";
import {
  commitRowFromGraphql,
  pullRequestRowFromGraphql,
  reviewRowFromGraphql,
} from "./transforms/pull-request.js";
import { queueWeeklyRefresh } from "./weekly.js";

/**
 * The one pipeline every sync path shares (backfill, delta sync, and the refresh a webhook queues):
 * fetch a page of pull requests, complete their long lists, store them.
 */

/** A pull request with every review and commit GitHub will list for it. */
export interface PullRequestSnapshot {
  pr: GqlPullRequest;
  reviews: GqlReview[];
  commits: GqlCommit[];
  /** GitHub lists at most 250 commits of a pull request; totalCount says how many it has. */
  commitsTruncated: boolean;
}

export interface PullRequestPage {
  nodes: GqlPullRequest[];
  totalCount: number;
  hasNextPage: boolean;
  endCursor: string | null;
  /** The page size to ask for next: halved while GitHub timed out, doubled after a success. */
  nextPageSize: number;
}

export const present = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined;

/** `node(id:)` answers any type; the fragment's fields are there only for a pull request. */
const isPullRequest = (node: GqlPullRequest | Record<PropertyKey, never>): node is GqlPullRequest =>
  "number" in node;

/**
 * One page of a repository's pull requests, newest first by creation (backfill) or by last update
 * (delta). Below the rate-limit reserve it throws RateLimitedError instead of spending it.
 */
export async function fetchPullRequestPage(
  ctx: SyncContext,
  repo: Pick<Repository, "nodeId" | "fullName">,
  page: { after: string | null; orderBy: "CREATED_AT" | "UPDATED_AT"; pageSize: number },
): Promise<PullRequestPage> {
  if (!repo.nodeId) throw new NotFoundError(`repository ${repo.fullName} has no node id`);
  ctx.client.assertBudget(ctx.reservePercent);
  const { result, nextPageSize } = await withAdaptivePageSize(page.pageSize, (size) =>
    ctx.client.graphql(
      "repository-pull-requests",
      { repoId: repo.nodeId!, first: size, after: page.after, orderBy: page.orderBy },
      // A timeout is answered with a smaller page here, not with the same page again.
      { retries: 0 },
    ),
  );
  const connection = result.node && "pullRequests" in result.node ? result.node.pullRequests : undefined;
  if (!connection) {
    throw new ObjectNotFoundError(`repository ${repo.fullName} is not visible to the installation`);
  }
  return pageOf(connection, nextPageSize);
}

/** A page of pull requests as a connection of any query that lists them answered it. */
export function pageOf(
  connection: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor?: string | null };
    nodes?: (GqlPullRequest | null)[] | null;
  },
  nextPageSize: number,
): PullRequestPage {
  return {
    nodes: (connection.nodes ?? []).filter(present),
    totalCount: connection.totalCount,
    hasNextPage: connection.pageInfo.hasNextPage,
    // Stored as the backfill's resume point: GitHub's text like any other.
    endCursor: cleanOptionalText(connection.pageInfo.endCursor) ?? null,
    nextPageSize,
  };
}

/**
 * Follows the reviews and commits connections past the first page the bulk query returned, so no
 * list is silently capped at 100.
 */
export async function completePullRequest(
  client: GitHubClient,
  pr: GqlPullRequest,
): Promise<PullRequestSnapshot> {
  const reviews = (pr.reviews?.nodes ?? []).filter(present);
  let reviewPage = pr.reviews?.pageInfo;
  while (reviewPage?.hasNextPage && reviewPage.endCursor) {
    const data = await client.graphql("pull-request-reviews", { id: pr.id, after: reviewPage.endCursor });
    const connection = data.node && "reviews" in data.node ? data.node.reviews : undefined;
    if (!connection) break;
    reviews.push(...(connection.nodes ?? []).filter(present));
    reviewPage = connection.pageInfo;
  }

  const commits = (pr.commits.nodes ?? []).filter(present).map((node) => node.commit);
  let commitPage = pr.commits.pageInfo;
  while (commitPage.hasNextPage && commitPage.endCursor) {
    const data = await client.graphql("pull-request-commits", { id: pr.id, after: commitPage.endCursor });
    const connection = data.node && "commits" in data.node ? data.node.commits : undefined;
    if (!connection) break;
    commits.push(...(connection.nodes ?? []).filter(present).map((node) => node.commit));
    commitPage = connection.pageInfo;
  }
  return { pr, reviews, commits, commitsTruncated: commits.length < pr.commits.totalCount };
}

export async function completePullRequests(
  client: GitHubClient,
  prs: GqlPullRequest[],
): Promise<PullRequestSnapshot[]> {
  const snapshots: PullRequestSnapshot[] = [];
  // One at a time: only the rare pull request with more than 100 reviews or commits costs a call.
  for (const pr of prs) snapshots.push(await completePullRequest(client, pr));
  return snapshots;
}

/**
 * Pull requests by node id, any repositories, up to 100 a query (nodes(ids:)), in the order asked:
 * null where GitHub answered nothing for an id (gone, or an error about that one alone). Below the
 * rate-limit reserve it throws RateLimitedError instead of spending it.
 */
export async function fetchPullRequestsById(
  ctx: Pick<SyncContext, "client" | "reservePercent">,
  ids: string[],
): Promise<(GqlPullRequest | null)[]> {
  const answers = await lookUpPullRequestsById(ctx, ids);
  return answers.map((answer) => (answer === "not_found" ? null : answer));
}

/**
 * fetchPullRequestsById telling apart the ids GitHub says it has no object for ("not_found": its
 * NOT_FOUND error at that index) from those it answered nothing usable for (null: another error
 * about that one, or an error about the query that leaves no object of the answer trusted).
 */
export async function lookUpPullRequestsById(
  ctx: Pick<SyncContext, "client" | "reservePercent">,
  ids: string[],
): Promise<(GqlPullRequest | "not_found" | null)[]> {
  ctx.client.assertBudget(ctx.reservePercent);
  const { data, errors } = await ctx.client.graphqlPartial("pull-requests-by-id", { ids });
  const failed = failedNodeIndexes(errors);
  if (!failed) return ids.map(() => null);
  const notFound = new Set(
    errors.filter((error) => error.type === "NOT_FOUND").map((error) => error.path[1] as number),
  );
  return ids.map((_, index) => {
    if (notFound.has(index)) return "not_found";
    const node = data.nodes[index];
    return !failed.has(index) && node && isPullRequest(node) ? node : null;
  });
}

/** One pull request by node id, complete; null when GitHub no longer has it. */
export async function fetchPullRequest(
  client: GitHubClient,
  nodeId: string,
): Promise<PullRequestSnapshot | null> {
  const { node } = await client.graphql("pull-request", { id: nodeId });
  return node && isPullRequest(node) ? completePullRequest(client, node) : null;
}

export interface SnapshotRows {
  pullRequest: NewPullRequestRow;
  reviews: NewReviewRow[];
  commits: NewCommitRow[];
  commitsComplete: boolean;
}

/** Rows for a snapshot, with metrics computed from the complete lists in memory. */
export function snapshotRows(
  snapshot: PullRequestSnapshot,
  installationId: number,
  repoId: number,
  settings: DerivationSettings,
  now: Date,
): SnapshotRows {
  const pullRequest = pullRequestRowFromGraphql(snapshot.pr, installationId, repoId);
  const reviews = snapshot.reviews.flatMap((review) => {
    const row = reviewRowFromGraphql(review, installationId, pullRequest.id, repoId);
    return row && row.state !== "pending" ? [row] : [];
  });
  const commits = snapshot.commits.map((commit) =>
    commitRowFromGraphql(commit, installationId, pullRequest.id, repoId),
  );
  const metrics = computePullRequestMetrics(
    {
      title: pullRequest.title,
      body: pullRequest.body ?? null,
      headRef: pullRequest.headRef,
      baseRef: pullRequest.baseRef,
      labels: pullRequest.labels ?? null,
      authorId: pullRequest.authorId ?? null,
      authorLogin: pullRequest.authorLogin ?? null,
      createdAt: pullRequest.createdAt,
      mergedAt: pullRequest.mergedAt ?? null,
      readyForReviewAt: pullRequest.readyForReviewAt ?? null,
      reviews: reviews.map((review) => ({
        reviewerId: review.reviewerId ?? null,
        reviewerLogin: review.reviewerLogin ?? null,
        reviewerType: review.reviewerType ?? null,
        state: review.state,
        submittedAt: review.submittedAt ?? null,
      })),
      commits: commits.map((commit) => ({
        message: commit.message,
        authoredAt: commit.authoredAt ?? null,
        committedAt: commit.committedAt ?? null,
      })),
    },
    settings,
  );
  return {
    pullRequest: {
      ...pullRequest,
      ...metrics,
      commitsTruncated: snapshot.commitsTruncated,
      detailsSyncedAt: now,
    },
    reviews,
    commits,
    commitsComplete: !snapshot.commitsTruncated,
  };
}

export interface StoreResult {
  /** Ids of the pull requests written (a stored version newer than GitHub's answer is kept). */
  written: number[];
  /** With countDrift: pull requests, reviews and commits GitHub has that were not stored. */
  drift: number;
}

/**
 * Stores complete snapshots of one repository in the caller's transaction, in a few statements per
 * page: pull requests guarded by updated_at, their reviews and commits, complete commit lists
 * replacing the stored ones (force-pushed commits leave), and the weeks they count in marked for
 * the installation's debounced weekly refresh (the weeks they leave too).
 */
export async function storePullRequests(
  db: Db,
  ctx: Pick<SyncContext, "boss" | "installationId" | "settings">,
  repoId: number,
  snapshots: PullRequestSnapshot[],
  options: { now: Date; countDrift?: boolean },
): Promise<StoreResult> {
  if (snapshots.length === 0) return { written: [], drift: 0 };
  const { installationId, settings } = ctx;
  const rows = snapshots.map((snapshot) =>
    snapshotRows(snapshot, installationId, repoId, settings, options.now),
  );
  const ids = rows.map((row) => row.pullRequest.id);
  const stored = await findStoredPullRequests(db, installationId, ids);
  const drift = options.countDrift ? await countDrift(db, installationId, rows, stored) : 0;

  const written = await upsertPullRequests(
    db,
    rows.map((row) => row.pullRequest),
  );
  await upsertReviews(
    db,
    rows.flatMap((row) => row.reviews),
  );
  await upsertCommits(
    db,
    rows.flatMap((row) => row.commits),
  );
  const writtenIds = new Set(written);
  const rewritten = rows.filter((row) => writtenIds.has(row.pullRequest.id));
  await replaceCommitLists(
    db,
    installationId,
    rewritten
      .filter((row) => row.commitsComplete)
      .map((row) => ({ pullRequestId: row.pullRequest.id, shas: row.commits.map((commit) => commit.sha) })),
  );
  await queueWeeklyRefresh(ctx.boss, db, installationId, settings.timezone, [
    ...rewritten.map((row) => row.pullRequest),
    ...stored.filter((row) => writtenIds.has(row.id)),
  ]);
  return { written, drift };
}

/** What GitHub has that the database lacks: pull requests, reviews and commits never delivered. */
async function countDrift(
  db: Db,
  installationId: number,
  rows: SnapshotRows[],
  stored: { id: number; updatedAt: Date }[],
): Promise<number> {
  const { reviewIds, commitKeys } = await findStoredDetails(
    db,
    installationId,
    rows.map((row) => row.pullRequest.id),
  );
  const version = new Map(stored.map((row) => [row.id, row.updatedAt.getTime()]));
  let drift = 0;
  for (const row of rows) {
    const storedVersion = version.get(row.pullRequest.id);
    if (storedVersion === undefined || storedVersion < row.pullRequest.updatedAt.getTime()) drift += 1;
    drift += row.reviews.filter((review) => !reviewIds.has(review.id)).length;
    drift += row.commits.filter((commit) => !commitKeys.has(`${row.pullRequest.id}:${commit.sha}`)).length;
  }
  return drift;
}
