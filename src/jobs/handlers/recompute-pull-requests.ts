import type { JobData } from "../../queue/catalog.js";
import { recomputeInstallation } from "../../sync/recompute.js";
import type { JobContext, JobDeps } from "./deps.js";

/** After new patterns or a new timezone: the stored pull requests' derived values and every weekly figure. */
export function recomputePullRequestsJob(deps: JobDeps) {
  return async (data: JobData<"recomputePullRequests">, { log }: JobContext) => {
    const result = await recomputeInstallation(deps.database, deps.boss, data.installationId);
    log.info(result, "pull requests recomputed");
  };
}
