import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { findInstallationRepositories } from "../../db/queries/repositories.js";
import type { Installation, Repository } from "../../db/schema/index.js";
import { AppError } from "../../errors.js";
import { parseInstallationSettings, syncDepths, type SyncDepth } from "../../settings.js";
import { estimateBackfills } from "../../sync/estimate.js";
import { requestSyncNow, SyncNowTooSoonError } from "../../sync/sync-now.js";
import { depthDays, setSyncDepth, trackRepositories, untrackRepositories } from "../../sync/tracking.js";
import { openInstallation } from "../access.js";
import { fragment, page, setFlash, viewerOf } from "../render.js";
import type { UiContext } from "../ui.js";
import { formatCount } from "../view-models/format.js";
import {
  depthLabels,
  depthOptions,
  installationHeader,
  installationPath,
} from "../view-models/installation.js";
import {
  buildRepositoriesViewModel,
  buildRepositoryRows,
  estimateView,
  PAGE_SIZE,
  repositoriesHref,
  selectionView,
  type RepositoriesQuery,
} from "../view-models/repositories.js";

/**
 * The repositories of an installation: search, page, track and untrack (with an estimate first),
 * set a sync depth, "sync now", and a rows fragment htmx polls while something runs. Every change
 * is a form posted to its own URL and answered with a redirect (or a confirmation page), so all of
 * it works without JavaScript.
 */

type Params = { installationId: string };
type RepoParams = Params & { repoId: string };

const querySchema = z.object({
  q: z.string().max(100).optional().default(""),
  filter: z.enum(["all", "tracked", "untracked"]).optional().default("all"),
  page: z.coerce.number().int().min(1).max(10_000).optional().default(1),
});

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** A checkbox list arrives as one value or several. */
const repoIds = z.preprocess(
  (value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]),
  z.array(id).max(PAGE_SIZE * 2),
);
const returnTo = z
  .string()
  .optional()
  .transform((value) => value ?? "");

const trackForm = z.object({ repoIds, confirm: z.literal("1").optional(), returnTo });
const untrackForm = z.object({
  repoIds,
  data: z.enum(["keep", "delete"]).optional(),
  confirm: z.literal("1").optional(),
  returnTo,
});
const depthForm = z.object({ depth: z.enum(syncDepths), confirm: z.literal("1").optional(), returnTo });

function parseQuery(raw: unknown): RepositoriesQuery {
  const parsed = querySchema.safeParse(raw);
  const value = parsed.success ? parsed.data : querySchema.parse({});
  return { search: value.q.trim(), filter: value.filter, page: value.page };
}

export async function repositoryRoutes(app: FastifyInstance, context: UiContext) {
  const base = "/installations/:installationId/repositories";

  /** Back to the list the form was posted from (same page, search and filter), else its first page. */
  function back(installation: Installation, returnPath: string): string {
    const prefix = installationPath(installation.id, "repositories");
    return returnPath === prefix || returnPath.startsWith(`${prefix}?`) ? returnPath : prefix;
  }

  app.get<{ Params: Params }>(base, async (request, reply) => {
    const installation = (await openInstallation(context.access, request, reply))?.installation;
    if (!installation) return;
    const model = await buildRepositoriesViewModel(
      context.database.db,
      installation,
      parseQuery(request.query),
      context.config.github.webUrl,
      context.now(),
    );
    return page(request, reply, "repositories", model);
  });

  app.get<{ Params: Params }>(`${base}/rows`, async (request, reply) => {
    const installation = (await openInstallation(context.access, request, reply))?.installation;
    if (!installation) return;
    const query = parseQuery(request.query);
    const table = await buildRepositoryRows(context.database.db, installation, query, context.now());
    return fragment(reply, "repository-rows", {
      table,
      depthOptions,
      viewer: viewerOf(request),
      returnTo: repositoriesHref(installation.id, query),
    });
  });

  app.post<{ Params: Params }>(`${base}/track`, async (request, reply) => {
    const installation = (await openInstallation(context.access, request, reply))?.installation;
    if (!installation) return;
    const form = trackForm.safeParse(request.body);
    if (!form.success || form.data.repoIds.length === 0) {
      setFlash(reply, { kind: "warn", text: "Select the repositories to track first." });
      return reply.redirect(back(installation, form.success ? form.data.returnTo : ""), 303);
    }
    const repos = (
      await findInstallationRepositories(context.database.db, installation.id, form.data.repoIds)
    ).filter((repo) => !repo.tracked);
    if (repos.length === 0) {
      setFlash(reply, { kind: "warn", text: "Those repositories are tracked already." });
      return reply.redirect(back(installation, form.data.returnTo), 303);
    }
    if (!form.data.confirm) {
      return page(request, reply, "confirm-track", {
        title: `Track repositories · ${installation.accountLogin}`,
        installation: installationHeader(installation, "repositories"),
        ...selectionView(repos),
        estimate: await estimate(request, installation, repos),
        action: `${installationPath(installation.id, "repositories")}/track`,
        returnTo: back(installation, form.data.returnTo),
      });
    }
    const tracked = await trackRepositories(
      context.database,
      context.boss,
      installation.id,
      form.data.repoIds,
    );
    setFlash(reply, {
      kind: "ok",
      text: `${formatCount(tracked.length)} ${tracked.length === 1 ? "repository is" : "repositories are"} now tracked; their history is on its way.`,
    });
    return reply.redirect(back(installation, form.data.returnTo), 303);
  });

  app.post<{ Params: Params }>(`${base}/untrack`, async (request, reply) => {
    const installation = (await openInstallation(context.access, request, reply))?.installation;
    if (!installation) return;
    const form = untrackForm.safeParse(request.body);
    if (!form.success || form.data.repoIds.length === 0) {
      setFlash(reply, { kind: "warn", text: "Select the repositories to stop tracking first." });
      return reply.redirect(back(installation, form.success ? form.data.returnTo : ""), 303);
    }
    const repos = (
      await findInstallationRepositories(context.database.db, installation.id, form.data.repoIds)
    ).filter((repo) => repo.tracked);
    if (repos.length === 0) {
      setFlash(reply, { kind: "warn", text: "Those repositories are not tracked." });
      return reply.redirect(back(installation, form.data.returnTo), 303);
    }
    if (!form.data.confirm || !form.data.data) {
      return page(request, reply.code(form.data.confirm ? 400 : 200), "confirm-untrack", {
        title: `Stop tracking · ${installation.accountLogin}`,
        installation: installationHeader(installation, "repositories"),
        ...selectionView(repos),
        error: form.data.confirm ? "Choose whether to keep or delete the data." : null,
        action: `${installationPath(installation.id, "repositories")}/untrack`,
        returnTo: back(installation, form.data.returnTo),
      });
    }
    const untracked = await untrackRepositories(
      context.database,
      context.boss,
      installation.id,
      form.data.repoIds,
      {
        deleteData: form.data.data === "delete",
      },
    );
    setFlash(reply, {
      kind: "ok",
      text:
        `${formatCount(untracked.length)} ${untracked.length === 1 ? "repository is" : "repositories are"} no longer tracked` +
        (form.data.data === "delete" ? "; their data was deleted." : "; their data is kept."),
    });
    return reply.redirect(back(installation, form.data.returnTo), 303);
  });

  app.post<{ Params: RepoParams }>(`${base}/:repoId/depth`, async (request, reply) => {
    const installation = (await openInstallation(context.access, request, reply))?.installation;
    if (!installation) return;
    const repo = await repository(installation, request.params.repoId);
    const form = depthForm.safeParse(request.body);
    if (!repo || !form.success) {
      setFlash(reply, {
        kind: "error",
        text: !repo ? "No such repository." : "Choose one of the offered depths.",
      });
      return reply.redirect(back(installation, ""), 303);
    }
    const settings = parseInstallationSettings(installation.settings);
    const current = repo.syncDepth ?? settings.defaultSyncDepth;
    const deeper = depthDays(form.data.depth) > depthDays(current);
    if (deeper && repo.tracked && !form.data.confirm) {
      return page(request, reply, "confirm-depth", {
        title: `Sync depth · ${repo.fullName}`,
        installation: installationHeader(installation, "repositories"),
        repository: { fullName: repo.fullName },
        from: depthLabels[current],
        to: depthLabels[form.data.depth],
        confirmLabel: `Sync ${depthLabels[form.data.depth].toLowerCase()}`,
        depth: form.data.depth,
        estimate: await estimate(request, installation, [repo], form.data.depth),
        action: `${installationPath(installation.id, "repositories")}/${repo.id}/depth`,
        returnTo: back(installation, form.data.returnTo),
      });
    }
    const result = await setSyncDepth(
      context.database,
      context.boss,
      installation.id,
      repo.id,
      form.data.depth,
      context.now(),
    );
    setFlash(reply, {
      kind: "ok",
      text: result?.backfill
        ? `${repo.fullName} now syncs ${depthLabels[form.data.depth].toLowerCase()}; the older pull requests are on their way.`
        : `${repo.fullName} now syncs ${depthLabels[form.data.depth].toLowerCase()}.`,
    });
    return reply.redirect(back(installation, form.data.returnTo), 303);
  });

  app.post<{ Params: RepoParams }>(`${base}/:repoId/sync`, async (request, reply) => {
    const installation = (await openInstallation(context.access, request, reply))?.installation;
    if (!installation) return;
    const repo = await repository(installation, request.params.repoId);
    const returnPath = back(installation, returnTo.parse((request.body as { returnTo?: string })?.returnTo));
    if (!repo) {
      setFlash(reply, { kind: "error", text: "No such repository." });
      return reply.redirect(returnPath, 303);
    }
    try {
      const kind = await requestSyncNow(context.database, context.boss, {
        installationId: installation.id,
        repoId: repo.id,
      });
      setFlash(reply, {
        kind: "ok",
        text:
          kind === "backfill"
            ? `${repo.fullName}: its backfill is queued.`
            : `${repo.fullName}: syncing what changed since the last sync.`,
      });
    } catch (error) {
      if (!(error instanceof SyncNowTooSoonError)) throw error;
      setFlash(reply, {
        kind: "warn",
        text: `${repo.fullName} was synced on request moments ago; try again in a few minutes.`,
      });
    }
    return reply.redirect(returnPath, 303);
  });

  async function repository(installation: Installation, raw: string): Promise<Repository | undefined> {
    const parsed = id.safeParse(raw);
    if (!parsed.success) return undefined;
    const [repo] = await findInstallationRepositories(context.database.db, installation.id, [parsed.data]);
    return repo;
  }

  /** The estimate for a confirmation page, or why there is none (GitHub did not answer). */
  async function estimate(
    request: FastifyRequest,
    installation: Installation,
    repos: Repository[],
    depth?: SyncDepth,
  ) {
    try {
      const client = await context.github(
        installation.id,
        context.log.child({ installationId: installation.id }),
      );
      const result = await estimateBackfills(
        client,
        repos,
        {
          ...(depth ? { depth } : {}),
          settings: parseInstallationSettings(installation.settings),
          now: context.now(),
          reservePercent: context.config.rateLimitReservePercent,
        },
        context.config.syncConcurrencyPerInstallation,
        repos.length,
      );
      return estimateView(result);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      request.log.warn({ code: error.code, reason: error.message }, "backfill estimate unavailable");
      return estimateView(null);
    }
  }
}
