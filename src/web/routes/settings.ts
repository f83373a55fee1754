import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Installation } from "../../db/schema/index.js";
import type { RequestInputError } from "../../errors.js";
import { patternError } from "../../metrics/patterns.js";
import { isTimeZone } from "../../metrics/weeks.js";
import { installationSettingsSchema, syncDepths, type InstallationSettings } from "../../settings.js";
import { saveSettings } from "../../sync/settings.js";
import { checkbox, form, installationParams, noQuery, text, type ZodTypeProvider } from "../contract.js";
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
    return render(request, reply, request.installation, { form: posted.form, preview: posted.settings });
  });

  app.post(base, post, async (request, reply) => {
    const posted = await readSettings(request, reply);
    if (!posted) return;
    const { installation } = request;
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
