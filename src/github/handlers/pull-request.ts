import type { Context } from "probot";
import { withTransaction } from "../../db/client.js";
import { recomputePullRequestMetrics, upsertPullRequests } from "../../db/queries/pull-requests.js";
import { pullRequestRowFromWebhook, type WebhookPullRequest } from "../../sync/transforms/pull-request.js";
import { enqueueWeeklyRefresh } from "../../sync/weekly.js";
import type { HandlerDeps } from "./deps.js";
import { enqueueRefresh, resolveKnownRepository, type RepositoryPayload } from "./known-repository.js";

/**
 * pull_request.*: store what the payload says (never older than what is stored), recompute the
 * metrics, and queue a refresh that fetches reviews and commits the payload does not carry.
 */
export function createPullRequestHandler(deps: HandlerDeps) {
  return async (context: Context<"pull_request">) => {
    const payload = context.payload;
    await withTransaction(deps.database, async (db) => {
      const known = await resolveKnownRepository(db, payload as unknown as RepositoryPayload);
      if (!known?.repository.tracked) return;
      const pr = payload.pull_request as unknown as WebhookPullRequest;
      const row = pullRequestRowFromWebhook(pr, known.installationId, known.repository.id);
      // The payload has no ready_for_review_at; the event itself is that moment.
      if (payload.action === "ready_for_review") row.readyForReviewAt = new Date(pr.updated_at);
      const written = await upsertPullRequests(db, [row]);
      await recomputePullRequestMetrics(db, known.installationId, written, known.settings);
      if (written.length > 0) {
        await enqueueWeeklyRefresh(deps.boss, db, known.installationId, known.settings.timezone, [row]);
      }
      await enqueueRefresh(deps.boss, db, known, pr);
    });
  };
}
