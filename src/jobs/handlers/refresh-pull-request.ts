import { withTransaction } from "../../db/client.js";
import { findRepository } from "../../db/queries/repositories.js";
import { explainRepositoryAccessError } from "../../sync/access.js";
import { fetchPullRequest, storePullRequests, type PullRequestSnapshot } from "../../sync/pull-requests.js";
import type { JobData } from "../../queue/catalog.js";
import type { JobContext, JobDeps, JobOutput } from "./deps.js";
import { openSyncContext } from "./open-sync-context.js";

/** Fetches one pull request with all its reviews and commits and stores it: what webhooks lack. */
export function refreshPullRequest(deps: JobDeps) {
  return async (data: JobData<"refreshPullRequest">, { log, signal }: JobContext): Promise<JobOutput> => {
    const opened = await openSyncContext(deps, data.installationId, { log, signal });
    if (!opened) return;
    const { ctx } = opened;
    let snapshot: PullRequestSnapshot | null;
    try {
      snapshot = await fetchPullRequest(ctx.client, data.nodeId);
    } catch (error) {
      // Uninstalled, suspended, repository or pull request gone: recorded, and nothing to retry.
      const repo = (await findRepository(deps.database.db, data.repoId)) ?? {
        id: data.repoId,
        nodeId: null,
        fullName: String(data.repoId),
      };
      const lost = await explainRepositoryAccessError({ ...deps, log }, ctx, repo, error, "pull_request");
      if (!lost) throw error;
      log.info({ pullRequestId: data.pullRequestId, reason: lost }, "pull request refresh skipped");
      return { skipped: lost };
    }
    if (!snapshot) {
      log.info({ pullRequestId: data.pullRequestId }, "pull request no longer on GitHub");
      return { skipped: "pull_request_gone" };
    }
    await withTransaction(deps.database, (db) =>
      storePullRequests(db, ctx, data.repoId, [snapshot], { now: ctx.now() }),
    );
  };
}
