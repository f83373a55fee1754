import { withTransaction } from "../../db/client.js";
import { findStoredPullRequests, upsertPullRequests, upsertReviews } from "../../db/queries/pull-requests.js";
import { recomputePullRequests } from "../../sync/recompute.js";
import { FollowUps, leaveFollowUps } from "../follow-ups.js";
import type { PullRequestReviewEvent } from "../payloads.js";
import { pullRequestRowFromWebhook, reviewRowFromWebhook } from "../transforms.js";
import type { HandlerDeps } from "./deps.js";
import { refreshJob, resolveKnownRepository } from "./known-repository.js";

/**
 * pull_request_review.*: the review, and the pull request it belongs to (a review can arrive before
 * the pull request's own events), then metrics and a refresh from GitHub.
 */
export async function handlePullRequestReview(
  deps: HandlerDeps,
  payload: PullRequestReviewEvent,
): Promise<void> {
  const followUps = new FollowUps();
  await withTransaction(deps.database, async (db) => {
    const pr = payload.pull_request;
    // Together, so the transaction's reads cost one round trip; `before` is what the event changes.
    const [known, before] = await Promise.all([
      resolveKnownRepository(deps.boss, db, payload),
      findStoredPullRequests(db, payload.installation.id, [pr.id]),
    ]);
    if (!known?.repository.tracked) return;
    const row = reviewRowFromWebhook(payload.review, known.installationId, pr.id, known.repository.id);
    if (payload.action === "dismissed") row.state = "dismissed";
    await upsertPullRequests(db, [pullRequestRowFromWebhook(pr, known.installationId, known.repository.id)]);
    // Pending reviews are drafts only their author sees; they become reviews when submitted.
    if (row.state !== "pending") await upsertReviews(db, [row]);
    const after = await recomputePullRequests(db, known.installationId, [pr.id], known.settings);
    followUps.refresh(refreshJob(known, pr));
    // The weeks of the first review, before and after: review time counts in the week of the first review.
    followUps.countWeeks(known.installationId, known.settings.timezone, [...after, ...before]);
  });
  await leaveFollowUps(deps, followUps);
}
