import type { NewCommitRow, NewPullRequestRow, NewReviewRow, ReviewState } from "../../db/schema/index.js";
import type { GqlActor, GqlCommit, GqlPullRequest, GqlReview } from "../../github/queries.js";
import { InvalidInputError } from "../../errors.js";
import { derivePullRequestState } from "../../metrics/pull-request.js";
import { cleanOptionalText, cleanText } from "../../text.js";

/** Pure GraphQL node → row mappers (their webhook counterparts are in src/webhooks/transforms.ts). */

const date = (value: string | null | undefined): Date | null => (value ? new Date(value) : null);

/** GitHub's BigInt ids arrive as strings; the tables keep them as bigint read as numbers. */
function databaseId(value: string | null, what: string): number {
  const id = Number(value);
  if (!value || !Number.isSafeInteger(id) || id <= 0) throw new InvalidInputError(`${what} has no usable id`);
  return id;
}

export function reviewStateFrom(value: string): ReviewState {
  const state = value.toLowerCase();
  if (state === "approved" || state === "changes_requested" || state === "dismissed" || state === "pending") {
    return state;
  }
  return "commented";
}

function actorType(actor: GqlActor | null): string | null {
  if (!actor) return null;
  return actor.__typename === "Bot"
    ? "Bot"
    : actor.__typename === "User"
      ? "User"
      : cleanText(actor.__typename);
}

/** Users, bots and mannequins have a database id; organizations and enterprise accounts do not here. */
function actorId(actor: GqlActor | null): number | null {
  return actor && "databaseId" in actor ? actor.databaseId : null;
}

export function reviewRowFromGraphql(
  review: GqlReview,
  installationId: number,
  pullRequestId: number,
  repoId: number,
): NewReviewRow | null {
  if (!review.fullDatabaseId) return null;
  return {
    id: databaseId(review.fullDatabaseId, "review"),
    installationId,
    pullRequestId,
    repoId,
    reviewerId: actorId(review.author),
    reviewerLogin: cleanOptionalText(review.author?.login) ?? null,
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
    sha: cleanText(commit.oid),
    repoId,
    authorId: commit.author?.user?.databaseId ?? null,
    authorLogin: cleanOptionalText(commit.author?.user?.login) ?? null,
    // GitHub answers "" for a commit without an author email.
    authorEmail: cleanOptionalText(commit.author?.email) || null,
    authorName: cleanOptionalText(commit.author?.name) ?? null,
    message: cleanText(commit.message),
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
  const readyEvent = (pr.timelineItems.nodes ?? []).find((node) => node && "createdAt" in node);
  return {
    installationId,
    id: databaseId(pr.fullDatabaseId, `pull request #${pr.number}`),
    nodeId: cleanText(pr.id),
    repoId,
    number: pr.number,
    title: cleanText(pr.title),
    body: cleanText(pr.body),
    state: derivePullRequestState(pr.state, mergedAt),
    draft: pr.isDraft,
    authorId: actorId(pr.author),
    authorLogin: cleanOptionalText(pr.author?.login) ?? null,
    authorType: actorType(pr.author),
    headRef: cleanText(pr.headRefName),
    baseRef: cleanText(pr.baseRefName),
    createdAt: new Date(pr.createdAt),
    updatedAt: new Date(pr.updatedAt),
    closedAt: date(pr.closedAt),
    mergedAt,
    readyForReviewAt: date(readyEvent && "createdAt" in readyEvent ? readyEvent.createdAt : null),
    additions: pr.additions,
    deletions: pr.deletions,
    changedFiles: pr.changedFiles,
    commitsCount: pr.commits.totalCount,
  };
}
