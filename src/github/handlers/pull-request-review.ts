import type { Context } from "probot";
import { withTransaction } from "../../db/client.js";
import {
  recomputePullRequestMetrics,
  upsertPullRequests,
  upsertReviews,
} from "../../db/queries/pull-requests.js";
import {
  pullRequestRowFromWebhook,
  reviewRowFromWebhook,
  type WebhookPullRequest,
  type WebhookReview,
} from "../../sync/transforms/pull-request.js";
import { enqueueWeeklyRefresh } from "../../sync/weekly.js";
import type { HandlerDeps } from "./deps.js";
import { enqueueRefresh, resolveKnownRepository, type RepositoryPayload } from "./known-repository.js";

/**
 * pull_request_review.*: the review, and the pull request it belongs to (a review can arrive before
 * the pull request's own events), then metrics and a refresh from GitHub.
 */
export function createPullRequestReviewHandler(deps: HandlerDeps) {
  return async (context: Context<"pull_request_review">) => {
    const payload = context.payload;
    await withTransaction(deps.database, async (db) => {
      const known = await resolveKnownRepository(db, payload as unknown as RepositoryPayload);
      if (!known?.repository.tracked) return;
      const pr = payload.pull_request as unknown as WebhookPullRequest;
      const review = payload.review as unknown as WebhookReview;
      const row = reviewRowFromWebhook(review, known.installationId, pr.id, known.repository.id);
      if (payload.action === "dismissed") row.state = "dismissed";
      const prRow = pullRequestRowFromWebhook(pr, known.installationId, known.repository.id);
      await upsertPullRequests(db, [prRow]);
      // Pending reviews are drafts only their author sees; they become reviews when submitted.
      if (row.state !== "pending") await upsertReviews(db, [row]);
      await recomputePullRequestMetrics(db, known.installationId, [pr.id], known.settings);
      // The review's own week: review time is counted in the week of the first review.
      await enqueueWeeklyRefresh(deps.boss, db, known.installationId, known.settings.timezone, [
        { ...prRow, firstReviewAt: row.submittedAt ?? null },
      ]);
      await enqueueRefresh(deps.boss, db, known, pr);
    });
  };
}
