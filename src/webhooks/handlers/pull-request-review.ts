import { withTransaction } from "../../db/client.js";
import { findStoredPullRequests, upsertPullRequests, upsertReviews } from "../../db/queries/pull-requests.js";
import { recomputePullRequests } from "../../sync/recompute.js";
import type { PullRequestReviewEvent } from "../payloads.js";
import { pullRequestRowFromWebhook, reviewRowFromWebhook } from "../transforms.js";
import type { HandlerDeps } from "./deps.js";
import { enqueueRefresh, queueWeeksAfterCommit, resolveKnownRepository } from "./known-repository.js";

/**
 * pull_request_review.*: the review, and the pull request it belongs to (a review can arrive before
 * the pull request's own events), then metrics and a refresh from GitHub.
 */
export async function handlePullRequestReview(
  deps: HandlerDeps,
  payload: PullRequestReviewEvent,
): Promise<void> {
  const changed = await withTransaction(deps.database, async (db) => {
    const known = await resolveKnownRepository(db, payload);
    if (!known?.repository.tracked) return;
    const pr = payload.pull_request;
    const row = reviewRowFromWebhook(payload.review, known.installationId, pr.id, known.repository.id);
    if (payload.action === "dismissed") row.state = "dismissed";
    const before = await findStoredPullRequests(db, known.installationId, [pr.id]);
    await upsertPullRequests(db, [pullRequestRowFromWebhook(pr, known.installationId, known.repository.id)]);
    // Pending reviews are drafts only their author sees; they become reviews when submitted.
    if (row.state !== "pending") await upsertReviews(db, [row]);
    const after = await recomputePullRequests(db, known.installationId, [pr.id], known.settings);
    await enqueueRefresh(deps.boss, db, known, pr);
    // The weeks of the first review, before and after: review time counts in the week of the first review.
    return { known, dates: [...after, ...before] };
  });
  if (changed) await queueWeeksAfterCommit(deps, changed.known, changed.dates);
}
