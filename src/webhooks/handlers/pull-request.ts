import { withTransaction } from "../../db/client.js";
import { findStoredPullRequests, upsertPullRequests } from "../../db/queries/pull-requests.js";
import { recomputePullRequests } from "../../sync/recompute.js";
import { queueWeeklyRefresh } from "../../sync/weekly.js";
import type { PullRequestEvent } from "../payloads.js";
import { pullRequestRowFromWebhook } from "../transforms.js";
import type { HandlerDeps } from "./deps.js";
import { enqueueRefresh, resolveKnownRepository } from "./known-repository.js";

/**
 * pull_request.*: store what the payload says (never older than what is stored), recompute the
 * metrics, and queue a refresh that fetches reviews and commits the payload does not carry.
 */
export async function handlePullRequest(deps: HandlerDeps, payload: PullRequestEvent): Promise<void> {
  await withTransaction(deps.database, async (db) => {
    const known = await resolveKnownRepository(db, payload);
    if (!known?.repository.tracked) return;
    const pr = payload.pull_request;
    const row = pullRequestRowFromWebhook(pr, known.installationId, known.repository.id);
    // The payload has no ready_for_review_at; the event itself is that moment.
    if (payload.action === "ready_for_review") row.readyForReviewAt = new Date(pr.updated_at);
    const before = await findStoredPullRequests(db, known.installationId, [pr.id]);
    const written = await upsertPullRequests(db, [row]);
    if (written.length > 0) {
      const after = await recomputePullRequests(db, known.installationId, written, known.settings);
      await queueWeeklyRefresh(deps.boss, db, known.installationId, known.settings.timezone, [
        ...after,
        ...before,
      ]);
    }
    await enqueueRefresh(deps.boss, db, known, pr);
  });
}
