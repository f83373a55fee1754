import type { NewPullRequestRow, NewReviewRow } from "../db/schema/index.js";
import { derivePullRequestState } from "../metrics/pull-request.js";
import { canonicalLogin, reviewStateFrom } from "../sync/transforms/pull-request.js";
import { cleanOptionalText, cleanText } from "../text.js";
import type { WebhookPullRequest, WebhookReview } from "./payloads.js";

/** Pure webhook payload → row mappers (their GraphQL counterparts are in src/sync/transforms). */

const date = (value: string | null | undefined): Date | null => (value ? new Date(value) : null);

export function pullRequestRowFromWebhook(
  pr: WebhookPullRequest,
  installationId: number,
  repoId: number,
): NewPullRequestRow {
  const mergedAt = date(pr.merged_at);
  const authorType = cleanOptionalText(pr.user?.type) ?? null;
  return {
    installationId,
    id: pr.id,
    nodeId: pr.node_id,
    repoId,
    number: pr.number,
    title: cleanText(pr.title),
    body: cleanOptionalText(pr.body) ?? null,
    state: derivePullRequestState(pr.state, mergedAt),
    draft: pr.draft ?? false,
    authorId: pr.user?.id ?? null,
    authorLogin: canonicalLogin(pr.user?.login, authorType),
    authorType,
    headRef: cleanText(pr.head.ref),
    baseRef: cleanText(pr.base.ref),
    createdAt: new Date(pr.created_at),
    updatedAt: new Date(pr.updated_at),
    closedAt: date(pr.closed_at),
    mergedAt,
    // Not in every payload (reviews', some GHES versions'): undefined keeps what is stored.
    additions: pr.additions,
    deletions: pr.deletions,
    changedFiles: pr.changed_files,
    commitsCount: pr.commits,
    labels: pr.labels?.map((label) => cleanText(label.name)),
  };
}

export function reviewRowFromWebhook(
  review: WebhookReview,
  installationId: number,
  pullRequestId: number,
  repoId: number,
): NewReviewRow {
  const reviewerType = cleanOptionalText(review.user?.type) ?? null;
  return {
    id: review.id,
    installationId,
    pullRequestId,
    repoId,
    reviewerId: review.user?.id ?? null,
    reviewerLogin: canonicalLogin(review.user?.login, reviewerType),
    reviewerType,
    state: reviewStateFrom(review.state),
    submittedAt: date(review.submitted_at),
  };
}
