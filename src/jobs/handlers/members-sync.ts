import { syncMembers } from "../../sync/members.js";
import type { JobData } from "../../queue/catalog.js";
import type { JobContext, JobDeps } from "./deps.js";
import { openSyncContext } from "./open-sync-context.js";

export function membersSync(deps: JobDeps) {
  return async (data: JobData<"membersSync">, { log }: JobContext) => {
    const opened = await openSyncContext(deps, data.installationId, log);
    if (!opened || opened.installation.accountType !== "Organization") return;
    const result = await syncMembers(opened.ctx, opened.installation.accountLogin);
    log.info(result, "members synced");
  };
}
