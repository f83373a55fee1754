import type { JobData } from "../../queue/catalog.js";
import { recomputeInstallation } from "../../sync/recompute.js";
import type { JobContext, JobDeps } from "./deps.js";

/** After new patterns or a new timezone: the stored pull requests' flags and the weekly figures. */
export function recomputePullRequestsJob(deps: JobDeps) {
  return async (data: JobData<"recomputePullRequests">, { log }: JobContext) => {
    const result = await recomputeInstallation(deps.database, deps.boss, data.installationId, {
      allWeeks: data.allWeeks,
    });
    log.info(result, "pull requests recomputed");
  };
}
