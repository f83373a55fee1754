import type { Db } from "../../db/client.js";
import { listExclusionInputs, listRecentPullRequests } from "../../db/queries/pull-requests.js";
import { computeExcludedReason } from "../../metrics/exclusions.js";
import type { Installation } from "../../db/schema/index.js";
import {
  isHotfixPullRequest,
  isRevertPullRequest,
  matchesRevertPattern,
} from "../../metrics/pull-request.js";
import { timeZones } from "../../metrics/weeks.js";
import { parseInstallationSettings, type InstallationSettings } from "../../settings.js";
import { buildApiTokensView } from "./api-tokens.js";
import { depthOptions, installationHeader, installationPath } from "./installation.js";
import { describeWorkingTime } from "./working-time.js";

/** What the settings form holds: strings as typed, so a refused form shows them again. */
export interface SettingsForm {
  timezone: string;
  defaultSyncDepth: string;
  autoTrackNewRepos: boolean;
  hotfixBranchPattern: string;
  hotfixTitlePattern: string;
  revertTitlePattern: string;
  /** ISO weekdays as the checkboxes send them ("1" Monday … "7" Sunday). */
  workDays: string[];
  workStart: string;
  workEnd: string;
  /** One date a line, as typed. */
  holidays: string;
  /** Labels and logins, one a line (or separated by commas), as typed. */
  excludedLabels: string;
  excludedAuthors: string;
  excludedHeadBranchPattern: string;
  excludedBaseBranchPattern: string;
}

export type SettingsErrors = Partial<Record<keyof SettingsForm, string>>;

/** The stored settings as the form shows them. */
function formOf(stored: InstallationSettings): SettingsForm {
  return {
    ...stored,
    workDays: stored.workDays.map(String),
    holidays: stored.holidays.join("\n"),
    excludedLabels: stored.excludedLabels.join("\n"),
    excludedAuthors: stored.excludedAuthors.join("\n"),
  };
}

/** How far back the exclusion preview counts: the pull requests of the last quarter or so. */
export const EXCLUSION_PREVIEW_DAYS = 90;
const MS_PER_DAY = 86_400_000;

/**
 * How many of the pull requests opened in the last EXCLUSION_PREVIEW_DAYS days the exclusions in
 * the form would leave out, beside how many are left out now; computed by the rule the recompute
 * applies after saving (computeExcludedReason), so the preview is what saving does.
 */
async function buildExclusionPreview(
  db: Db,
  installationId: number,
  settings: InstallationSettings,
  now: Date,
) {
  const prs = await listExclusionInputs(
    db,
    installationId,
    new Date(now.getTime() - EXCLUSION_PREVIEW_DAYS * MS_PER_DAY),
  );
  return {
    total: prs.length,
    excluded: prs.filter((pr) => computeExcludedReason(pr, settings) !== null).length,
    excludedNow: prs.filter((pr) => pr.excludedReason !== null).length,
    days: EXCLUSION_PREVIEW_DAYS,
  };
}

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/** How many recent pull requests the pattern preview runs on. */
export const PREVIEW_SIZE = 50;

/** The pattern fields of the form, in order, with what each is matched against. */
const PATTERN_FIELDS: { name: keyof SettingsForm & `${string}Pattern`; label: string; hint: string }[] = [
  {
    name: "hotfixBranchPattern",
    label: "Hotfix branch pattern",
    hint: "Matched against the head branch, e.g. ^(hotfix|hot-fix)[/-]",
  },
  {
    name: "hotfixTitlePattern",
    label: "Hotfix title pattern",
    hint: "Matched against the title, e.g. \\bhotfix\\b",
  },
  {
    name: "revertTitlePattern",
    label: "Revert title pattern (optional)",
    hint: "Matched against the title, e.g. ^rollback",
  },
];

/**
 * The last pull requests with what the patterns in the form would make of them, beside what is
 * stored now: a row changes when a flag would flip.
 */
async function buildPreview(db: Db, installationId: number, patterns: InstallationSettings) {
  const prs = await listRecentPullRequests(db, installationId, PREVIEW_SIZE);
  const rows = prs.map((pr) => {
    const facts = { title: pr.title, body: pr.body, headRef: pr.headRef, commits: [] };
    const hotfix = isHotfixPullRequest(facts, patterns);
    // The fixed revert rule also reads commit messages; the stored flag already has them.
    const revert = pr.isRevert || isRevertPullRequest(facts);
    const revertPattern = matchesRevertPattern(facts, patterns);
    return {
      repository: pr.repository,
      number: pr.number,
      title: pr.title,
      headRef: pr.headRef,
      hotfix,
      revert: revert || revertPattern,
      changed: hotfix !== pr.isHotfix || revertPattern !== pr.revertPatternMatch,
    };
  });
  return {
    rows,
    hotfixes: rows.filter((row) => row.hotfix).length,
    reverts: rows.filter((row) => row.revert).length,
    changed: rows.filter((row) => row.changed).length,
  };
}

export async function buildSettingsViewModel(
  db: Db,
  installation: Installation,
  options: {
    form?: SettingsForm;
    errors?: SettingsErrors;
    preview?: InstallationSettings;
    /** A token just created: shown once, on this page only. */
    createdToken?: { name: string; token: string };
    now?: Date;
  },
) {
  const stored = parseInstallationSettings(installation.settings);
  const form = options.form ?? formOf(stored);
  const errors = options.errors ?? {};
  const base = installationPath(installation.id, "settings");
  return {
    title: `Settings · ${installation.accountLogin}`,
    installation: installationHeader(installation, "settings"),
    form,
    errors,
    hasErrors: Object.keys(errors).length > 0,
    patternFields: PATTERN_FIELDS.map((field) => ({
      ...field,
      value: form[field.name],
      error: errors[field.name] ?? null,
    })),
    timeZones: timeZones(),
    weekdays: WEEKDAYS.map((label, index) => ({
      value: String(index + 1),
      label,
      checked: form.workDays.includes(String(index + 1)),
    })),
    workingTime: describeWorkingTime(stored),
    depthOptions,
    preview: options.preview ? await buildPreview(db, installation.id, options.preview) : null,
    exclusionPreview: options.preview
      ? await buildExclusionPreview(db, installation.id, options.preview, options.now ?? new Date())
      : null,
    previewSize: PREVIEW_SIZE,
    actions: { save: base, preview: `${base}/preview` },
    apiTokens: await buildApiTokensView(db, installation.id, base, options.createdToken),
  };
}
