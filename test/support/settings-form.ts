import { defaultInstallationSettings } from "../../src/settings.js";
import type { TestSession } from "./session.js";

/** The settings form as the page posts it at the defaults, with `patch` typed over it. */
export function settingsForm(
  session: TestSession,
  patch: Record<string, string | string[]> = {},
): Record<string, string | string[]> {
  return {
    _csrf: session.csrfToken,
    timezone: "UTC",
    defaultSyncDepth: "30d",
    autoTrackNewRepos: "on",
    hotfixBranchPattern: defaultInstallationSettings.hotfixBranchPattern,
    hotfixTitlePattern: defaultInstallationSettings.hotfixTitlePattern,
    revertTitlePattern: "",
    workDays: ["1", "2", "3", "4", "5"],
    workStart: "09:00",
    workEnd: "18:00",
    holidays: "",
    ...patch,
  };
}
