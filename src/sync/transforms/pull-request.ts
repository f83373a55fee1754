import type { NewCommitRow, NewPullRequestRow, NewReviewRow, ReviewState } from "../../db/schema/index.js";
import { derivePullRequestState } from "../../metrics/pull-request.js";
import type { GqlActor, GqlCommit, GqlPullRequest, GqlReview } from "../../github/queries.js";

/** Pure GitHub → row mappers, one per source (webhook payload or GraphQL node). */

interface WebhookUser {
  id: number;
  login: string;
  type?: string;
}

export interface WebhookPullRequest {
  id: number;
  node_id?: string;
  number: number;
  title: string;
  body?: string | null;
  state: string;
  draft?: boolean;
  merged?: boolean | null;
  user: WebhookUser | null;
  head: { ref: string };
  base: { ref: string };
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  merged_at: string | null;
  additions?: number;
  deletions?: number;
  changed_files?: number;
  commits?: number;
}

export interface WebhookReview {
  id: number;
  user: WebhookUser | null;
  state: string;
  submitted_at?: string | null;
}

const date = (value: string | null | undefined): Date | null => (value ? new Date(value) : null);

export function pullRequestRowFromWebhook(
  pr: WebhookPullRequest,
  installationId: number,
  repoId: number,
): NewPullRequestRow {
  const mergedAt = date(pr.merged_at);
  return {
    installationId,
    id: pr.id,
    nodeId: pr.node_id ?? null,
    repoId,
    number: pr.number,
    title: pr.title,
    body: pr.body ?? null,
    state: derivePullRequestState(pr.state, mergedAt),
    draft: pr.draft ?? false,
    authorId: pr.user?.id ?? null,
    authorLogin: pr.user?.login ?? null,
    authorType: pr.user?.type ?? null,
    headRef: pr.head.ref,
    baseRef: pr.base.ref,
    createdAt: new Date(pr.created_at),
    updatedAt: new Date(pr.updated_at),
    closedAt: date(pr.closed_at),
    mergedAt,
    // Not in every payload (e.g. "closed" payloads of some GHES versions): undefined keeps what is stored.
    additions: pr.additions,
    deletions: pr.deletions,
    changedFiles: pr.changed_files,
    commitsCount: pr.commits,
  };
}

export function reviewStateFrom(value: string): ReviewState {
  const state = value.toLowerCase();
  if (state === "approved" || state === "changes_requested" || state === "dismissed" || state === "pending") {
    return state;
  }
  return "commented";
}

export function reviewRowFromWebhook(
  review: WebhookReview,
  installationId: number,
  pullRequestId: number,
  repoId: number,
): NewReviewRow {
  return {
    id: review.id,
    installationId,
    pullRequestId,
    repoId,
    reviewerId: review.user?.id ?? null,
    reviewerLogin: review.user?.login ?? null,
    reviewerType: review.user?.type ?? null,
    state: reviewStateFrom(review.state),
    submittedAt: date(review.submitted_at),
  };
}

function actorType(actor: GqlActor | null): string | null {
  if (!actor) return null;
  return actor.__typename === "Bot" ? "Bot" : actor.__typename === "User" ? "User" : actor.__typename;
}

export function reviewRowFromGraphql(
  review: GqlReview,
  installationId: number,
  pullRequestId: number,
  repoId: number,
): NewReviewRow | null {
  if (!review.fullDatabaseId) return null;
  return {
    id: Number(review.fullDatabaseId),
    installationId,
    pullRequestId,
    repoId,
    reviewerId: review.author?.databaseId ?? null,
    reviewerLogin: review.author?.login ?? null,
    reviewerType: actorType(review.author),
    state: reviewStateFrom(review.state),
    submittedAt: date(review.submittedAt),
  };
}

export function commitRowFromGraphql(
  commit: GqlCommit,
  installationId: number,
  pullRequestId: number,
  repoId: number,
): NewCommitRow {
  return {
    installationId,
    pullRequestId,
    sha: commit.oid,
    repoId,
    authorId: commit.author?.user?.databaseId ?? null,
    authorLogin: commit.author?.user?.login ?? null,
    authorEmail: commit.author?.email || null,
    authorName: commit.author?.name ?? null,
    message: commit.message,
    authoredAt: date(commit.authoredDate),
    committedAt: date(commit.committedDate),
  };
}

/** The pull request columns a GraphQL node carries; metrics are added by the caller. */
export function pullRequestRowFromGraphql(
  pr: GqlPullRequest,
  installationId: number,
  repoId: number,
): NewPullRequestRow {
  const mergedAt = date(pr.mergedAt);
  const readyEvent = pr.timelineItems.nodes.find((node) => node?.createdAt);
  return {
    installationId,
    id: Number(pr.fullDatabaseId),
    nodeId: pr.id,
    repoId,
    number: pr.number,
    title: pr.title,
    body: pr.body,
    state: derivePullRequestState(pr.state, mergedAt),
    draft: pr.isDraft,
    authorId: pr.author?.databaseId ?? null,
    authorLogin: pr.author?.login ?? null,
    authorType: actorType(pr.author),
    headRef: pr.headRefName,
    baseRef: pr.baseRefName,
    createdAt: new Date(pr.createdAt),
    updatedAt: new Date(pr.updatedAt),
    closedAt: date(pr.closedAt),
    mergedAt,
    readyForReviewAt: date(readyEvent?.createdAt),
    additions: pr.additions,
    deletions: pr.deletions,
    changedFiles: pr.changedFiles,
    commitsCount: pr.commits.totalCount,
  };
}
