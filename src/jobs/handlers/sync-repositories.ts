import { explainInstallationAccessError } from "../../sync/access.js";
import { syncRepositories } from "../../sync/repositories.js";
import type { JobData } from "../../queue/catalog.js";
import { scheduleNightlySync } from "../../queue/schedule.js";
import type { JobContext, JobDeps, JobOutput } from "./deps.js";
import { openSyncContext } from "./open-sync-context.js";

export function syncRepositoriesJob(deps: JobDeps) {
  return async (data: JobData<"syncRepositories">, { log, signal }: JobContext): Promise<JobOutput> => {
    const opened = await openSyncContext(deps, data.installationId, { log, signal });
    if (!opened) return;
    let result;
    try {
      result = await syncRepositories(opened.ctx);
    } catch (error) {
      const lost = await explainInstallationAccessError({ ...deps, log }, data.installationId, error);
      if (!lost) throw error;
      return { skipped: lost };
    }
    await scheduleNightlySync(deps.boss, data.installationId, opened.ctx.settings.timezone);
    log.info(result, "repositories synced");
  };
}
