import type { Installation } from "../../db/schema/index.js";
import { syncDepths, type SyncDepth } from "../../settings.js";

export type InstallationTab = "repositories" | "metrics" | "teams" | "members" | "webhooks" | "settings";

const TABS: { tab: InstallationTab; label: string }[] = [
  { tab: "repositories", label: "Repositories" },
  { tab: "metrics", label: "Metrics" },
  { tab: "teams", label: "Teams" },
  { tab: "members", label: "Members" },
  { tab: "webhooks", label: "Webhook health" },
  { tab: "settings", label: "Settings" },
];

export function installationPath(installationId: number, tab: InstallationTab): string {
  return `/installations/${installationId}/${tab}`;
}

/** What keeps an installation from syncing, if anything: "Uninstalled", "Suspended". */
export function installationState(installation: Installation): string | null {
  return installation.deletedAt ? "Uninstalled" : installation.suspendedAt ? "Suspended" : null;
}

/** The header of every installation page: its account and the tabs, the current one marked. */
export function installationHeader(installation: Installation, current: InstallationTab) {
  return {
    id: installation.id,
    account: installation.accountLogin,
    state: installationState(installation),
    tabs: TABS.map(({ tab, label }) => ({
      href: installationPath(installation.id, tab),
      label,
      current: tab === current,
    })),
  };
}

export const depthLabels: Record<SyncDepth, string> = {
  "30d": "30 days",
  "60d": "60 days",
  "90d": "90 days",
  "180d": "180 days",
  "365d": "1 year",
  full: "Full history",
};

export const depthOptions = syncDepths.map((value) => ({ value, label: depthLabels[value] }));

/** Where on GitHub an admin grants the installation more repositories. */
export function installationSettingsUrl(githubWebUrl: string, installation: Installation): string {
  return installation.accountType === "Organization"
    ? `${githubWebUrl}/organizations/${encodeURIComponent(installation.accountLogin)}/settings/installations/${installation.id}`
    : `${githubWebUrl}/settings/installations/${installation.id}`;
}
