import { z } from "zod";

/** How far back a repository's history is backfilled. */
export const syncDepths = ["30d", "60d", "90d", "180d", "365d", "full"] as const;
export type SyncDepth = (typeof syncDepths)[number];

/** Per-installation settings, stored as JSON on the installation and edited in the settings UI. */
export const installationSettingsSchema = z.object({
  /** IANA zone the nightly delta sync runs in (02:00 local). */
  timezone: z.string().default("UTC"),
  defaultSyncDepth: z.enum(syncDepths).default("30d"),
  autoTrackNewRepos: z.boolean().default(true),
  /** Case-insensitive regular expression over the head branch name. */
  hotfixBranchPattern: z.string().default("^(hotfix|hot-fix)[/-]"),
  /** Case-insensitive regular expression over the title. */
  hotfixTitlePattern: z.string().default("\\bhotfix\\b"),
  /**
   * Case-insensitive regular expression over the title marking more pull requests as reverts (say,
   * "^Rollback"). Empty: only the fixed rule (title starts `Revert "`, or "This reverts commit").
   */
  revertTitlePattern: z.string().default(""),
});

export type InstallationSettings = z.infer<typeof installationSettingsSchema>;

export const defaultInstallationSettings: InstallationSettings = installationSettingsSchema.parse({});

/** Reads stored settings leniently: unknown keys dropped, missing ones defaulted. */
export function parseInstallationSettings(value: unknown): InstallationSettings {
  const parsed = installationSettingsSchema.safeParse(value ?? {});
  return parsed.success ? parsed.data : defaultInstallationSettings;
}

export function syncDepthToDays(depth: SyncDepth): number | null {
  return depth === "full" ? null : Number.parseInt(depth, 10);
}
