import type { Db } from "../../db/client.js";
import { listInstallations } from "../../db/queries/installations.js";
import { countPullRequests, summarizeRepositories } from "../../db/queries/repositories.js";
import type { SyncStatus } from "../../db/schema/index.js";
import { computeProgress, worstSyncStatus } from "../../metrics/progress.js";
import { formatCount, formatEta, statusLabel } from "./format.js";
import { installationPath, installationState } from "./installation.js";

/**
 * Everything the home page shows, prepared so the template only loops and branches. Only the
 * installations in `allowedInstallationIds` (those the signed-in user administers) are listed.
 */
export async function buildHomeViewModel(db: Db, allowedInstallationIds: readonly number[], now: Date) {
  const allowed = new Set(allowedInstallationIds);
  const installations = allowed.size === 0 ? [] : await listInstallations(db);
  const views = [];
  for (const installation of installations) {
    if (!allowed.has(installation.id)) continue;
    const summary = await summarizeRepositories(db, installation.id);
    const worst = worstSyncStatus(summary.byStatus);
    const etas = summary.syncing
      .map((repo) => computeProgress(repo, now).etaSeconds)
      .filter((eta): eta is number => eta !== null);
    const count = (status: SyncStatus) => summary.byStatus[status] ?? 0;
    views.push({
      id: installation.id,
      account: installation.accountLogin,
      accountType: installation.accountType === "User" ? "Personal account" : "Organization",
      state: installationState(installation),
      repositories: `${formatCount(summary.tracked)} of ${formatCount(summary.total)} repositories tracked`,
      pullRequests: `${formatCount(await countPullRequests(db, installation.id))} pull requests stored`,
      sync:
        summary.tracked === 0
          ? null
          : {
              status: worst,
              label: statusLabel(worst),
              detail: [
                count("syncing") + count("queued") > 0
                  ? `${formatCount(count("syncing") + count("queued"))} syncing`
                  : null,
                count("error") > 0 ? `${formatCount(count("error"))} failed` : null,
                count("paused_rate_limited") > 0
                  ? `${formatCount(count("paused_rate_limited"))} paused`
                  : null,
                formatEta(etas.length > 0 ? Math.max(...etas) : null),
              ]
                .filter(Boolean)
                .join(" · "),
            },
      links: {
        repositories: installationPath(installation.id, "repositories"),
        metrics: installationPath(installation.id, "metrics"),
      },
    });
  }
  return { title: "Installations", installations: views };
}
