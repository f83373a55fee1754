import type { JobData } from "../../queue/catalog.js";
import { reconcileInstallations } from "../../sync/installations.js";
import type { JobContext, JobDeps, JobOutput } from "./deps.js";

/** Hourly, at start and at sign-in, once across replicas: see src/sync/installations.ts. */
export function reconcileInstallationsJob(deps: JobDeps) {
  return async (_data: JobData<"reconcileInstallations">, { log }: JobContext): Promise<JobOutput> => {
    return { ...(await reconcileInstallations({ ...deps, log })) };
  };
}
