import type { Db } from "../../db/client.js";
import { listRecentPullRequests } from "../../db/queries/pull-requests.js";
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
}

export type SettingsErrors = Partial<Record<keyof SettingsForm, string>>;

/** The stored settings as the form shows them. */
function formOf(stored: InstallationSettings): SettingsForm {
  return {
    ...stored,
    workDays: stored.workDays.map(String),
    holidays: stored.holidays.join("\n"),
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
    previewSize: PREVIEW_SIZE,
    actions: { save: base, preview: `${base}/preview` },
    apiTokens: await buildApiTokensView(db, installation.id, base, options.createdToken),
  };
}
