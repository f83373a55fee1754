import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Installation } from "../../db/schema/index.js";
import { patternError } from "../../metrics/patterns.js";
import { isTimeZone } from "../../metrics/weeks.js";
import { installationSettingsSchema, syncDepths, type InstallationSettings } from "../../settings.js";
import { saveSettings } from "../../sync/settings.js";
import { openInstallation } from "../access.js";
import { page, setFlash } from "../render.js";
import type { UiContext } from "../ui.js";
import { installationPath } from "../view-models/installation.js";
import { buildSettingsViewModel, type SettingsErrors, type SettingsForm } from "../view-models/settings.js";

type Params = { installationId: string };

/** The form as posted: any field may be missing or of the wrong type; nothing is trusted. */
function readForm(body: unknown): SettingsForm {
  const fields = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const text = (key: string) => (typeof fields[key] === "string" ? (fields[key] as string) : "");
  return {
    timezone: text("timezone").trim(),
    defaultSyncDepth: text("defaultSyncDepth"),
    // An unchecked checkbox is not sent at all.
    autoTrackNewRepos: fields.autoTrackNewRepos === "on",
    hotfixBranchPattern: text("hotfixBranchPattern"),
    hotfixTitlePattern: text("hotfixTitlePattern"),
    revertTitlePattern: text("revertTitlePattern"),
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
  for (const key of ["hotfixBranchPattern", "hotfixTitlePattern", "revertTitlePattern"] as const) {
    const problem = patternError(form[key]);
    if (problem) errors[key] = problem;
  }
  if (Object.keys(errors).length > 0) return { errors };
  return { settings: installationSettingsSchema.parse(form) };
}

/**
 * An installation's settings: the nightly sync's timezone, the default sync depth, auto-tracking,
 * and the hotfix and revert patterns with a preview on the latest pull requests. Saving new
 * patterns (or a new timezone) recomputes the stored flags and weekly figures in a job.
 */
export async function settingsRoutes(app: FastifyInstance, context: UiContext) {
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

  /** The posted form's settings, or undefined after showing the form again with its errors. */
  async function readSettings(request: FastifyRequest, reply: FastifyReply, installation: Installation) {
    const form = readForm(request.body);
    const result = validate(form);
    if ("errors" in result) {
      await render(request, reply.code(400), installation, { form, errors: result.errors });
      return undefined;
    }
    return { form, settings: result.settings };
  }

  app.get<{ Params: Params }>(base, async (request, reply) => {
    const installation = (await openInstallation(context.access, request, reply))?.installation;
    if (!installation) return;
    return render(request, reply, installation, {});
  });

  app.post<{ Params: Params }>(`${base}/preview`, async (request, reply) => {
    const installation = (await openInstallation(context.access, request, reply))?.installation;
    if (!installation) return;
    const posted = await readSettings(request, reply, installation);
    if (!posted) return;
    return render(request, reply, installation, { form: posted.form, preview: posted.settings });
  });

  app.post<{ Params: Params }>(base, async (request, reply) => {
    const installation = (await openInstallation(context.access, request, reply))?.installation;
    if (!installation) return;
    const posted = await readSettings(request, reply, installation);
    if (!posted) return;
    const change = await saveSettings(context.database, context.boss, installation.id, posted.settings);
    setFlash(reply, {
      kind: "ok",
      text:
        change.patternsChanged || change.timezoneChanged
          ? "Settings saved. Stored pull requests and weekly figures are being recomputed; this takes a minute for large histories."
          : "Settings saved.",
    });
    return reply.redirect(installationPath(installation.id, "settings"), 303);
  });
}
