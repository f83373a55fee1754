import type { JobData } from "../../queue/catalog.js";
import { confirmInstallationAccess } from "../../sync/access.js";
import type { JobContext, JobDeps, JobOutput } from "./deps.js";

/**
 * After an installation.deleted delivery: GitHub is asked, as the App, whether the installation
 * still exists. A 404 marks it deleted (history kept, nightly sync unscheduled); an installation
 * that still answers (a replayed delivery) is left exactly as it was.
 */
export function confirmInstallation(deps: JobDeps) {
  return async (data: JobData<"confirmInstallation">, { log }: JobContext): Promise<JobOutput> => {
    const lost = await confirmInstallationAccess({ ...deps, log }, data.installationId);
    if (!lost)
      log.warn({ installationId: data.installationId }, "installation.deleted not confirmed by github");
    return { installation: lost ?? "still_installed" };
  };
}
