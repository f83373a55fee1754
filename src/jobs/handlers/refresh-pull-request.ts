import { withTransaction } from "../../db/client.js";
import { fetchPullRequest, storePullRequests } from "../../sync/pull-requests.js";
import type { JobData } from "../../queue/catalog.js";
import type { JobContext, JobDeps } from "./deps.js";
import { openSyncContext } from "./open-sync-context.js";

/** Fetches one pull request with all its reviews and commits and stores it: what webhooks lack. */
export function refreshPullRequest(deps: JobDeps) {
  return async (data: JobData<"refreshPullRequest">, { log }: JobContext) => {
    const opened = await openSyncContext(deps, data.installationId, log);
    if (!opened) return;
    const { ctx } = opened;
    const snapshot = await fetchPullRequest(ctx.client, data.nodeId);
    if (!snapshot) {
      log.info({ pullRequestId: data.pullRequestId }, "pull request no longer on GitHub");
      return;
    }
    await withTransaction(deps.database, (db) =>
      storePullRequests(db, ctx, data.repoId, [snapshot], { now: ctx.now() }),
    );
  };
}
