import { withTransaction } from "../../db/client.js";
import { findStoredPullRequests, upsertPullRequests } from "../../db/queries/pull-requests.js";
import { touchRepository } from "../../db/queries/repositories.js";
import { recomputePullRequests } from "../../sync/recompute.js";
import type { PullRequestEvent } from "../payloads.js";
import { pullRequestRowFromWebhook } from "../transforms.js";
import type { HandlerDeps } from "./deps.js";
import { enqueueRefresh, queueWeeksAfterCommit, resolveKnownRepository } from "./known-repository.js";

/**
 * pull_request.*: store what the payload says (never older than what is stored), recompute the
 * metrics, and queue a refresh that fetches reviews and commits the payload does not carry.
 */
export async function handlePullRequest(deps: HandlerDeps, payload: PullRequestEvent): Promise<void> {
  const changed = await withTransaction(deps.database, async (db) => {
    const known = await resolveKnownRepository(db, payload);
    if (!known?.repository.tracked) return;
    const pr = payload.pull_request;
    const row = pullRequestRowFromWebhook(pr, known.installationId, known.repository.id);
    // The payload has no ready_for_review_at; the event itself is that moment.
    if (payload.action === "ready_for_review") row.readyForReviewAt = new Date(pr.updated_at);
    const before = await findStoredPullRequests(db, known.installationId, [pr.id]);
    const written = await upsertPullRequests(db, [row]);
    const after = await recomputePullRequests(db, known.installationId, written, known.settings);
    await enqueueRefresh(deps.boss, db, known, pr);
    return written.length > 0 ? { known, dates: [...after, ...before] } : undefined;
  });
  // After the commit, so that a burst does not queue on shared rows: see queueWeeksAfterCommit.
  if (changed) {
    await queueWeeksAfterCommit(deps, changed.known, changed.dates);
    // The repositories page lists the most recently active first.
    await touchRepository(
      deps.database.db,
      changed.known.repository.id,
      new Date(payload.pull_request.updated_at),
    );
  }
}
