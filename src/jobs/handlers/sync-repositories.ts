import { syncRepositories } from "../../sync/repositories.js";
import type { JobData } from "../../queue/catalog.js";
import { scheduleNightlySync } from "../../queue/schedule.js";
import type { JobContext, JobDeps } from "./deps.js";
import { openSyncContext } from "./open-sync-context.js";

export function syncRepositoriesJob(deps: JobDeps) {
  return async (data: JobData<"syncRepositories">, { log }: JobContext) => {
    const opened = await openSyncContext(deps, data.installationId, log);
    if (!opened) return;
    const result = await syncRepositories(opened.ctx);
    await scheduleNightlySync(deps.boss, data.installationId, opened.ctx.settings.timezone);
    log.info(result, "repositories synced");
  };
}
