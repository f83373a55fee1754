import type { Db } from "../db/client.js";
import {
  deleteCommitsNotIn,
  upsertCommits,
  upsertPullRequests,
  upsertReviews,
} from "../db/queries/pull-requests.js";
import type { NewCommitRow, NewPullRequestRow, NewReviewRow } from "../db/schema/index.js";
import type { GitHubClient } from "../github/client.js";
import type {
  GqlCommit,
  GqlPullRequest,
  GqlReview,
  PullRequestCommitsResult,
  PullRequestResult,
  PullRequestReviewsResult,
} from "../github/queries.js";
import { computePullRequestMetrics, type HotfixPatterns } from "../metrics/pull-request.js";
import {
  commitRowFromGraphql,
  pullRequestRowFromGraphql,
  reviewRowFromGraphql,
} from "./transforms/pull-request.js";

/** A pull request with every review and commit GitHub will list for it. */
export interface PullRequestSnapshot {
  pr: GqlPullRequest;
  reviews: GqlReview[];
  commits: GqlCommit[];
  /** GitHub lists at most 250 commits of a pull request; totalCount says how many it has. */
  commitsTruncated: boolean;
}

/**
 * Follows the reviews and commits connections past the first page the bulk query returned, so no
 * list is silently capped at 100.
 */
export async function completePullRequest(
  client: GitHubClient,
  pr: GqlPullRequest,
): Promise<PullRequestSnapshot> {
  const reviews = pr.reviews.nodes.filter((node): node is GqlReview => node !== null);
  let reviewPage = pr.reviews.pageInfo;
  while (reviewPage.hasNextPage && reviewPage.endCursor) {
    const data = await client.graphql<PullRequestReviewsResult>("pull-request-reviews", {
      id: pr.id,
      after: reviewPage.endCursor,
    });
    if (!data.node) break;
    reviews.push(...data.node.reviews.nodes.filter((node): node is GqlReview => node !== null));
    reviewPage = data.node.reviews.pageInfo;
  }

  const commits = pr.commits.nodes.flatMap((node) => (node ? [node.commit] : []));
  let commitPage = pr.commits.pageInfo;
  while (commitPage.hasNextPage && commitPage.endCursor) {
    const data = await client.graphql<PullRequestCommitsResult>("pull-request-commits", {
      id: pr.id,
      after: commitPage.endCursor,
    });
    if (!data.node) break;
    commits.push(...data.node.commits.nodes.flatMap((node) => (node ? [node.commit] : [])));
    commitPage = data.node.commits.pageInfo;
  }
  return { pr, reviews, commits, commitsTruncated: commits.length < pr.commits.totalCount };
}

/** One pull request by node id, complete; null when GitHub no longer has it. */
export async function fetchPullRequest(
  client: GitHubClient,
  nodeId: string,
): Promise<PullRequestSnapshot | null> {
  const data = await client.graphql<PullRequestResult>("pull-request", { id: nodeId });
  if (!data.node) return null;
  return completePullRequest(client, data.node);
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
  patterns: HotfixPatterns,
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
      authorId: pullRequest.authorId ?? null,
      authorLogin: pullRequest.authorLogin ?? null,
      createdAt: pullRequest.createdAt,
      mergedAt: pullRequest.mergedAt ?? null,
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
    patterns,
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

/**
 * Writes complete snapshots in a few statements per page. Pull requests are guarded by updated_at;
 * a commit list that is complete replaces the stored one (force-pushed commits leave).
 * Returns the ids of the pull requests that were written.
 */
export async function saveSnapshots(db: Db, rows: SnapshotRows[]): Promise<number[]> {
  if (rows.length === 0) return [];
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
  for (const row of rows) {
    if (row.commitsComplete && writtenIds.has(row.pullRequest.id)) {
      await deleteCommitsNotIn(
        db,
        row.pullRequest.installationId,
        row.pullRequest.id,
        row.commits.map((commit) => commit.sha),
      );
    }
  }
  return written;
}
