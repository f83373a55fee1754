import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Installation } from "../../db/schema/index.js";
import type { RequestInputError } from "../../errors.js";
import { patternError } from "../../metrics/patterns.js";
import { parseCalendarDate } from "../../metrics/range.js";
import { isTimeZone } from "../../metrics/weeks.js";
import { parseClock } from "../../metrics/working-hours.js";
import {
  MAX_EXCLUSION_ENTRIES,
  MAX_HOLIDAYS,
  installationSettingsSchema,
  syncDepths,
  type InstallationSettings,
} from "../../settings.js";
import { saveSettings } from "../../sync/settings.js";
import {
  checkbox,
  form,
  installationParams,
  list,
  noQuery,
  text,
  type ZodTypeProvider,
} from "../contract.js";
import { page, setFlash } from "../render.js";
import type { UiContext } from "../ui.js";
import { installationPath } from "../view-models/installation.js";
import { buildSettingsViewModel, type SettingsErrors, type SettingsForm } from "../view-models/settings.js";

/** The form's shape: what each value may be is decided by validate(), with a message per field. */
const settingsForm = form({
  timezone: text(200).optional(),
  defaultSyncDepth: text(50).optional(),
  autoTrackNewRepos: checkbox,
  // Longer than a pattern may be, so that patternError says how long it may be.
  hotfixBranchPattern: text(1000).optional(),
  hotfixTitlePattern: text(1000).optional(),
  revertTitlePattern: text(1000).optional(),
  workDays: list(text(10), 7),
  workStart: text(20).optional(),
  workEnd: text(20).optional(),
  // A date and a line break each: room for every holiday allowed, and then some.
  holidays: text(MAX_HOLIDAYS * 20).optional(),
  excludedLabels: text(20_000).optional(),
  excludedAuthors: text(20_000).optional(),
  excludedHeadBranchPattern: text(1000).optional(),
  excludedBaseBranchPattern: text(1000).optional(),
});

/** The form as posted, or as typed when it did not fit: only strings are shown again. */
function readForm(body: unknown): SettingsForm {
  const fields = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const text = (key: string) => (typeof fields[key] === "string" ? (fields[key] as string) : "");
  return {
    timezone: text("timezone").trim(),
    defaultSyncDepth: text("defaultSyncDepth"),
    // An unchecked checkbox is not sent at all; a parsed one is a boolean.
    autoTrackNewRepos: fields.autoTrackNewRepos === "on" || fields.autoTrackNewRepos === true,
    hotfixBranchPattern: text("hotfixBranchPattern"),
    hotfixTitlePattern: text("hotfixTitlePattern"),
    revertTitlePattern: text("revertTitlePattern"),
    // Unchecked boxes are not sent; one checked box arrives as a string, several as a list.
    workDays: [fields.workDays ?? []].flat().filter((day): day is string => typeof day === "string"),
    workStart: text("workStart").trim(),
    workEnd: text("workEnd").trim(),
    holidays: text("holidays"),
    excludedLabels: text("excludedLabels"),
    excludedAuthors: text("excludedAuthors"),
    excludedHeadBranchPattern: text("excludedHeadBranchPattern"),
    excludedBaseBranchPattern: text("excludedBaseBranchPattern"),
  };
}

/** Settings from a form, or a message for each field that cannot be saved (then nothing is). */
function validate(form: SettingsForm): { settings: InstallationSettings } | { errors: SettingsErrors } {
  const errors: SettingsErrors = {};
  if (!isTimeZone(form.timezone))
    errors.timezone = "Choose a time zone from the list (an IANA name such as Europe/Berlin).";
  if (!(syncDepths as readonly string[]).includes(form.defaultSyncDepth)) {
    errors.defaultSyncDepth = "Choose one of the offered depths.";
  }
  const patterns = [
    "hotfixBranchPattern",
    "hotfixTitlePattern",
    "revertTitlePattern",
    "excludedHeadBranchPattern",
    "excludedBaseBranchPattern",
  ] as const;
  for (const key of patterns) {
    const problem = patternError(form[key]);
    if (problem) errors[key] = problem;
  }
  const working = readWorkingTime(form, errors);
  const excludedLabels = readEntries(form, "excludedLabels", errors);
  const excludedAuthors = readEntries(form, "excludedAuthors", errors);
  if (!working || Object.keys(errors).length > 0) return { errors };
  return {
    settings: installationSettingsSchema.parse({ ...form, ...working, excludedLabels, excludedAuthors }),
  };
}

/** Labels or logins separated by commas or line breaks: each once; [] after a message. */
function readEntries(form: SettingsForm, key: "excludedLabels" | "excludedAuthors", errors: SettingsErrors) {
  const entries = [
    ...new Set(
      form[key]
        .split(/[,\n]+/)
        .map((entry) => entry.trim())
        .filter(Boolean),
    ),
  ];
  if (entries.length > MAX_EXCLUSION_ENTRIES) errors[key] = `At most ${MAX_EXCLUSION_ENTRIES} entries.`;
  else if (entries.some((entry) => entry.length > 100))
    errors[key] = "Each entry has at most 100 characters.";
  return entries;
}

const WEEKDAY = /^[1-7]$/;

/** The work week of a form, or undefined after a message for each field that cannot be used. */
function readWorkingTime(form: SettingsForm, errors: SettingsErrors) {
  if (!form.workDays.every((day) => WEEKDAY.test(day))) errors.workDays = "Choose days from the list.";
  else if (form.workDays.length === 0) errors.workDays = "Choose at least one working day.";
  const start = parseClock(form.workStart);
  const end = parseClock(form.workEnd);
  const clockError = "Enter a time as HH:MM, from 00:00 to 24:00.";
  if (start === null) errors.workStart = clockError;
  if (end === null) errors.workEnd = clockError;
  else if (start !== null && end <= start) {
    errors.workEnd = "The working day must end after it starts (one span, within a day).";
  }
  const holidays = readHolidays(form.holidays, errors);
  if (errors.workDays || errors.workStart || errors.workEnd || !holidays) return undefined;
  return {
    workDays: [...new Set(form.workDays.map(Number))].sort((a, b) => a - b),
    workStart: form.workStart,
    workEnd: form.workEnd,
    holidays,
  };
}

/** Dates separated by line breaks, spaces or commas: sorted, each once; undefined after a message. */
function readHolidays(text: string, errors: SettingsErrors): string[] | undefined {
  const dates = text.split(/[\s,;]+/).filter(Boolean);
  const wrong = dates.find((date) => parseCalendarDate(date) === null);
  if (wrong !== undefined) {
    errors.holidays = `“${wrong.slice(0, 20)}” is not a date: write each as YYYY-MM-DD.`;
    return undefined;
  }
  const unique = [...new Set(dates)].sort();
  if (unique.length > MAX_HOLIDAYS) {
    errors.holidays = `At most ${MAX_HOLIDAYS} dates.`;
    return undefined;
  }
  return unique;
}

/**
 * An installation's settings: the nightly sync's timezone, the default sync depth, auto-tracking,
 * the hotfix and revert patterns with a preview on the latest pull requests, and the working
 * hours. Saving new patterns, a new timezone or new working hours recomputes the stored flags,
 * durations and weekly figures in a job.
 */
export async function settingsRoutes(fastify: FastifyInstance, context: UiContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const base = "/installations/:installationId/settings";

  async function render(
    request: FastifyRequest,
    reply: FastifyReply,
    installation: Installation,
    options: Parameters<typeof buildSettingsViewModel>[2],
  ) {
    return page(
      request,
      reply,
      "settings",
      await buildSettingsViewModel(context.database.db, installation, options),
    );
  }

  /** A form that did not fit its shape: shown again as typed, the message beside each field. */
  function refuse(request: FastifyRequest, reply: FastifyReply, error: RequestInputError) {
    const errors: SettingsErrors = {};
    for (const issue of error.issues) {
      const field = issue.field.split(".")[0] as keyof SettingsErrors;
      errors[field] ??= issue.message;
    }
    return render(request, reply.code(400), request.installation, { form: readForm(request.body), errors });
  }

  /** The posted form's settings, or undefined after showing the form again with its errors. */
  async function readSettings(request: FastifyRequest, reply: FastifyReply) {
    const form = readForm(request.body);
    const result = validate(form);
    if ("errors" in result) {
      await render(request, reply.code(400), request.installation, { form, errors: result.errors });
      return undefined;
    }
    return { form, settings: result.settings };
  }

  const show = {
    schema: { params: installationParams, querystring: noQuery },
    config: { access: "installation-admin" as const },
  };
  const post = {
    schema: { params: installationParams, querystring: noQuery, body: settingsForm },
    config: { access: "installation-admin" as const, invalidInput: refuse },
  };

  app.get(base, show, async (request, reply) => render(request, reply, request.installation, {}));

  app.post(`${base}/preview`, post, async (request, reply) => {
    const posted = await readSettings(request, reply);
    if (!posted) return;
    return render(request, reply, request.installation, {
      form: posted.form,
      preview: posted.settings,
      now: context.now(),
    });
  });

  app.post(base, post, async (request, reply) => {
    const posted = await readSettings(request, reply);
    if (!posted) return;
    const { installation } = request;
    const change = await saveSettings(context.database, context.boss, installation.id, posted.settings);
    setFlash(reply, {
      kind: "ok",
      text:
        change.patternsChanged ||
        change.timezoneChanged ||
        change.workingTimeChanged ||
        change.exclusionsChanged
          ? "Settings saved. Stored pull requests and weekly figures are being recomputed; this takes a minute for large histories."
          : "Settings saved.",
    });
    return reply.redirect(installationPath(installation.id, "settings"), 303);
  });
}
