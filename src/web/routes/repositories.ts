import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { findInstallationRepositories } from "../../db/queries/repositories.js";
import type { Installation, Repository } from "../../db/schema/index.js";
import { AppError } from "../../errors.js";
import { parseInstallationSettings, syncDepths, type SyncDepth } from "../../settings.js";
import { estimateBackfills } from "../../sync/estimate.js";
import { requestSyncNow, SyncNowTooSoonError } from "../../sync/sync-now.js";
import { depthDays, setSyncDepth, trackRepositories, untrackRepositories } from "../../sync/tracking.js";
import {
  confirmed,
  form,
  id,
  installationParams,
  list,
  optionalText,
  pageNumber,
  query,
  returnTo,
  type ZodTypeProvider,
} from "../contract.js";
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

const listQuery = query({
  q: optionalText(100),
  filter: z.enum(["all", "tracked", "untracked"]).optional().default("all"),
  page: pageNumber,
});

/** The selection of a list: none is allowed (the page says to select some first). */
const repoIds = list(id, PAGE_SIZE * 2);
const trackForm = form({ repoIds, confirm: confirmed, returnTo });
const untrackForm = form({
  repoIds,
  data: z.enum(["keep", "delete"]).optional(),
  confirm: confirmed,
  returnTo,
});
const depthForm = form({
  depth: z.enum(syncDepths, "Choose one of the offered depths."),
  confirm: confirmed,
  returnTo,
});
const syncForm = form({ returnTo });
const repoParams = installationParams.extend({ repoId: id });

function toListQuery(value: z.output<typeof listQuery>): RepositoriesQuery {
  return { search: value.q.trim(), filter: value.filter, page: value.page };
}

export async function repositoryRoutes(fastify: FastifyInstance, context: UiContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const base = "/installations/:installationId/repositories";
  const access = { access: "installation-admin" as const };
  const list = { schema: { params: installationParams, querystring: listQuery }, config: access };

  /** Back to the list the form was posted from (same page, search and filter), else its first page. */
  function back(installation: Installation, returnPath: string): string {
    const prefix = installationPath(installation.id, "repositories");
    return returnPath === prefix || returnPath.startsWith(`${prefix}?`) ? returnPath : prefix;
  }

  app.get(base, list, async (request, reply) => {
    const model = await buildRepositoriesViewModel(
      context.database.db,
      request.installation,
      toListQuery(request.query),
      context.config.github.webUrl,
      context.now(),
    );
    return page(request, reply, "repositories", model);
  });

  app.get(`${base}/rows`, list, async (request, reply) => {
    const { installation } = request;
    const query = toListQuery(request.query);
    const table = await buildRepositoryRows(context.database.db, installation, query, context.now());
    return fragment(reply, "repository-rows", {
      table,
      depthOptions,
      viewer: viewerOf(request),
      returnTo: repositoriesHref(installation.id, query),
    });
  });

  const track = { schema: { params: installationParams, body: trackForm }, config: access };
  app.post(`${base}/track`, track, async (request, reply) => {
    const { installation, body } = request;
    const returnPath = back(installation, body.returnTo);
    if (body.repoIds.length === 0) {
      setFlash(reply, { kind: "warn", text: "Select the repositories to track first." });
      return reply.redirect(returnPath, 303);
    }
    const repos = (
      await findInstallationRepositories(context.database.db, installation.id, body.repoIds)
    ).filter((repo) => !repo.tracked);
    if (repos.length === 0) {
      setFlash(reply, { kind: "warn", text: "Those repositories are tracked already." });
      return reply.redirect(returnPath, 303);
    }
    if (!body.confirm) {
      return page(request, reply, "confirm-track", {
        title: `Track repositories · ${installation.accountLogin}`,
        installation: installationHeader(installation, "repositories"),
        ...selectionView(repos),
        estimate: await estimate(request, installation, repos),
        action: `${installationPath(installation.id, "repositories")}/track`,
        returnTo: returnPath,
      });
    }
    const tracked = await trackRepositories(context.database, context.boss, installation.id, body.repoIds);
    setFlash(reply, {
      kind: "ok",
      text: `${formatCount(tracked.length)} ${tracked.length === 1 ? "repository is" : "repositories are"} now tracked; their history is on its way.`,
    });
    return reply.redirect(returnPath, 303);
  });

  const untrack = { schema: { params: installationParams, body: untrackForm }, config: access };
  app.post(`${base}/untrack`, untrack, async (request, reply) => {
    const { installation, body } = request;
    const returnPath = back(installation, body.returnTo);
    if (body.repoIds.length === 0) {
      setFlash(reply, { kind: "warn", text: "Select the repositories to stop tracking first." });
      return reply.redirect(returnPath, 303);
    }
    const repos = (
      await findInstallationRepositories(context.database.db, installation.id, body.repoIds)
    ).filter((repo) => repo.tracked);
    if (repos.length === 0) {
      setFlash(reply, { kind: "warn", text: "Those repositories are not tracked." });
      return reply.redirect(returnPath, 303);
    }
    if (!body.confirm || !body.data) {
      return page(request, reply.code(body.confirm ? 400 : 200), "confirm-untrack", {
        title: `Stop tracking · ${installation.accountLogin}`,
        installation: installationHeader(installation, "repositories"),
        ...selectionView(repos),
        error: body.confirm ? "Choose whether to keep or delete the data." : null,
        action: `${installationPath(installation.id, "repositories")}/untrack`,
        returnTo: returnPath,
      });
    }
    const deleteData = body.data === "delete";
    const untracked = await untrackRepositories(
      context.database,
      context.boss,
      installation.id,
      body.repoIds,
      {
        deleteData,
      },
    );
    setFlash(reply, {
      kind: "ok",
      text:
        `${formatCount(untracked.length)} ${untracked.length === 1 ? "repository is" : "repositories are"} no longer tracked` +
        (deleteData ? "; their data was deleted." : "; their data is kept."),
    });
    return reply.redirect(returnPath, 303);
  });

  const depth = { schema: { params: repoParams, body: depthForm }, config: access };
  app.post(`${base}/:repoId/depth`, depth, async (request, reply) => {
    const { installation, body } = request;
    const returnPath = back(installation, body.returnTo);
    const repo = await repository(installation, request.params.repoId);
    if (!repo) {
      setFlash(reply, { kind: "error", text: "No such repository." });
      return reply.redirect(returnPath, 303);
    }
    const settings = parseInstallationSettings(installation.settings);
    const current = repo.syncDepth ?? settings.defaultSyncDepth;
    const deeper = depthDays(body.depth) > depthDays(current);
    if (deeper && repo.tracked && !body.confirm) {
      return page(request, reply, "confirm-depth", {
        title: `Sync depth · ${repo.fullName}`,
        installation: installationHeader(installation, "repositories"),
        repository: { fullName: repo.fullName },
        from: depthLabels[current],
        to: depthLabels[body.depth],
        confirmLabel: `Sync ${depthLabels[body.depth].toLowerCase()}`,
        depth: body.depth,
        estimate: await estimate(request, installation, [repo], body.depth),
        action: `${installationPath(installation.id, "repositories")}/${repo.id}/depth`,
        returnTo: returnPath,
      });
    }
    const result = await setSyncDepth(
      context.database,
      context.boss,
      installation.id,
      repo.id,
      body.depth,
      context.now(),
    );
    const label = depthLabels[body.depth].toLowerCase();
    setFlash(reply, {
      kind: "ok",
      text: result?.backfill
        ? `${repo.fullName} now syncs ${label}; the older pull requests are on their way.`
        : `${repo.fullName} now syncs ${label}.`,
    });
    return reply.redirect(returnPath, 303);
  });

  const sync = { schema: { params: repoParams, body: syncForm }, config: access };
  app.post(`${base}/:repoId/sync`, sync, async (request, reply) => {
    const { installation } = request;
    const returnPath = back(installation, request.body.returnTo);
    const repo = await repository(installation, request.params.repoId);
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

  async function repository(installation: Installation, repoId: number): Promise<Repository | undefined> {
    const [repo] = await findInstallationRepositories(context.database.db, installation.id, [repoId]);
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
