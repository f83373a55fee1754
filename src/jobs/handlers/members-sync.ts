import { explainInstallationAccessError } from "../../sync/access.js";
import { syncMembers } from "../../sync/members.js";
import { syncTeams } from "../../sync/teams.js";
import type { JobData } from "../../queue/catalog.js";
import type { JobContext, JobDeps, JobOutput } from "./deps.js";
import { openSyncContext } from "./open-sync-context.js";

export function membersSync(deps: JobDeps) {
  return async (data: JobData<"membersSync">, { log, signal }: JobContext): Promise<JobOutput> => {
    const opened = await openSyncContext(deps, data.installationId, { log, signal });
    if (!opened || opened.installation.accountType !== "Organization") return;
    let result;
    let teams;
    try {
      // Members first: the teams' members are people the members page can then name.
      result = await syncMembers(opened.ctx, opened.installation.accountLogin);
      teams = await syncTeams(opened.ctx, opened.installation.accountLogin);
    } catch (error) {
      // A renamed organization is recorded here too; the retry then asks under its new login.
      const lost = await explainInstallationAccessError({ ...deps, log }, data.installationId, error);
      if (!lost) throw error;
      return { skipped: lost };
    }
    log.info(result, "members synced");
    log.info(teams, "teams synced");
    if (!result.trusted) return { skipped: "members_answer_untrusted" };
    if (!teams.trusted) return { skipped: "teams_answer_untrusted" };
  };
}
