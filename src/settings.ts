import { z } from "zod";

/** How far back a repository's history is backfilled. */
export const syncDepths = ["30d", "60d", "90d", "180d", "365d", "full"] as const;
export type SyncDepth = (typeof syncDepths)[number];

/** A wall-clock time, 00:00 to 24:00. */
const CLOCK = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Twenty years of public holidays and company days off, with room to spare. */
export const MAX_HOLIDAYS = 500;

/** Room for any sensible list of labels or logins to leave out, and no more (a settings row stays small). */
export const MAX_EXCLUSION_ENTRIES = 100;
/** GitHub's longest label name is 50 characters and login 39; a little room either way. */
const exclusionEntry = z.string().trim().min(1).max(100);

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
  /**
   * The work week, in `timezone`: the days (ISO weekdays, Monday 1 … Sunday 7), one span of hours
   * for every working day ("HH:MM", start before end; "24:00" is midnight at the day's end), and
   * non-working dates (YYYY-MM-DD on that calendar). Durations are also stored in working hours:
   * the time inside these hours (src/metrics/working-hours.ts).
   */
  workDays: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
  workStart: z.string().regex(CLOCK).default("09:00"),
  workEnd: z.string().regex(CLOCK).default("18:00"),
  holidays: z.array(z.string().regex(DATE)).max(MAX_HOLIDAYS).default([]),
  /**
   * Exclusions (src/metrics/exclusions.ts): pull requests that count in no figure. Labels and
   * logins compare case-insensitively, as GitHub does; the branch patterns are case-insensitive
   * RE2 searches like the hotfix ones (empty: none). Bots stay as the page's toggle has them.
   */
  excludedLabels: z.array(exclusionEntry).max(MAX_EXCLUSION_ENTRIES).default(["skip-metrics"]),
  excludedAuthors: z.array(exclusionEntry).max(MAX_EXCLUSION_ENTRIES).default([]),
  excludedHeadBranchPattern: z.string().default(""),
  excludedBaseBranchPattern: z.string().default(""),
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
