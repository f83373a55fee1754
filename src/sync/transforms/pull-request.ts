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

const BOT_SUFFIX = "[bot]";

/**
 * The one spelling of an account's login, whichever path brought it: GitHub's REST API, webhooks and
 * UI call an App's bot account `dependabot[bot]`, while GraphQL's Bot actor says `dependabot`. A
 * bot's login gets the suffix; anyone else's is kept as it is (cleaned).
 */
export function canonicalLogin(login: string | null | undefined, type: string | null): string | null {
  const cleaned = cleanOptionalText(login) ?? null;
  if (cleaned === null || type !== "Bot" || cleaned.endsWith(BOT_SUFFIX)) return cleaned;
  return `${cleaned}${BOT_SUFFIX}`;
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
    reviewerLogin: canonicalLogin(review.author?.login, actorType(review.author)),
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
    authorLogin: canonicalLogin(pr.author?.login, actorType(pr.author)),
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
    labels: (pr.labels?.nodes ?? []).flatMap((label) => (label ? [cleanText(label.name)] : [])),
  };
}
