import { withTransaction } from "../../db/client.js";
import { findStoredPullRequests, upsertPullRequests } from "../../db/queries/pull-requests.js";
import { recomputePullRequests } from "../../sync/recompute.js";
import { FollowUps, leaveFollowUps } from "../follow-ups.js";
import type { PullRequestEvent } from "../payloads.js";
import { pullRequestRowFromWebhook } from "../transforms.js";
import type { HandlerDeps } from "./deps.js";
import { refreshJob, resolveKnownRepository } from "./known-repository.js";

/**
 * pull_request.*: store what the payload says (never older than what is stored), recompute the
 * metrics; then (src/webhooks/follow-ups.ts) fetch the reviews and commits the payload does not
 * carry, refresh the weeks it counts in, and move the repository up the repositories page.
 */
export async function handlePullRequest(deps: HandlerDeps, payload: PullRequestEvent): Promise<void> {
  const followUps = new FollowUps();
  await withTransaction(deps.database, async (db) => {
    const pr = payload.pull_request;
    // Together, so the transaction's reads cost one round trip; `before` is what the event changes.
    const [known, before] = await Promise.all([
      resolveKnownRepository(deps.boss, db, payload),
      findStoredPullRequests(db, payload.installation.id, [pr.id]),
    ]);
    if (!known?.repository.tracked) return;
    const row = pullRequestRowFromWebhook(pr, known.installationId, known.repository.id);
    // The payload has no ready_for_review_at; the event itself is that moment.
    if (payload.action === "ready_for_review") row.readyForReviewAt = new Date(pr.updated_at);
    const written = await upsertPullRequests(db, [row]);
    const after = await recomputePullRequests(db, known.installationId, written, known.settings);
    followUps.refresh(refreshJob(known, pr));
    if (written.length > 0) {
      followUps.countWeeks(known.installationId, known.settings.timezone, [...after, ...before]);
      // The repositories page lists the most recently active first.
      followUps.touch(known.repository.id, new Date(pr.updated_at));
    }
  });
  await leaveFollowUps(deps, followUps);
}
