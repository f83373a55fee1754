import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { searchTrackedRepositories, streamPullRequestExport } from "../../db/queries/metrics.js";
import { parseInstallationSettings } from "../../settings.js";
import { z } from "zod";
import { installationParams, query, text, type ZodTypeProvider } from "../contract.js";
import { fragment, page } from "../render.js";
import type { UiContext } from "../ui.js";
import {
  buildInvalidMetricsViewModel,
  buildMetricsViewModel,
  createMetricsCaches,
  REPOSITORY_CHOICES,
  resolveMetricsQuery,
  type MetricsQuery,
  type ResolvedMetricsQuery,
} from "../view-models/metrics.js";
import { csvFilename, stringifyCsvBatches } from "../view-models/metrics-csv.js";

/**
 * Delivery metrics of an installation, or of one of its repositories, week by week: a page read
 * from the weekly rows, and a CSV of the pull requests behind them, streamed. Both take the same
 * GET query (range, repo, team, bots, hours), so the page's form works without JavaScript and its export link
 * is the page's own query.
 */

/** The query's shape; what the values mean (and the messages beside the fields) is resolveMetricsQuery's. */
export const metricsQueryShape = {
  range: text(100).optional(),
  from: text(100).optional(),
  to: text(100).optional(),
  repo: text(100).optional(),
  team: text(100).optional(),
  bots: text(100).optional(),
  hours: text(100).optional(),
  repoName: text(100).optional(),
};
export const metricsQuery = query(metricsQueryShape);

const EXCLUDED_MESSAGE =
  'excluded: leave it out, or "include" to list the pull requests the exclusions leave out, with why.';
/** The export's query: the page's, and whether it lists excluded pull requests too. */
export const metricsCsvQuery = query({
  ...metricsQueryShape,
  excluded: z.enum(["", "include"], { error: EXCLUDED_MESSAGE }).optional(),
});

/** What the repository search box sends as one types. */
export const repositorySearchQuery = query({ repoName: text(100).optional() });

/**
 * Rows per round trip of the export's cursor: large enough that the round trips cost little, small
 * enough that a batch (a few hundred kB) never shows in the process's memory.
 */
const CSV_BATCH_ROWS = 500;

export async function metricsRoutes(fastify: FastifyInstance, context: UiContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const base = "/installations/:installationId/metrics";
  const caches = createMetricsCaches();

  /** The page with the query as typed and a message beside each field that cannot be used. */
  async function refuse(request: FastifyRequest, reply: FastifyReply, resolved?: ResolvedMetricsQuery) {
    const { installation } = request;
    resolved ??= await resolveMetricsQuery(context.database.db, installation, request.query, context.now());
    return page(request, reply.code(400), "metrics", buildInvalidMetricsViewModel(installation, resolved));
  }
  const route = {
    schema: { params: installationParams, querystring: metricsQuery },
    config: {
      access: "installation-admin" as const,
      invalidInput: (request: FastifyRequest, reply: FastifyReply) => refuse(request, reply),
    },
  };

  /** The view's model, or null when the query cannot be used. */
  async function view(request: FastifyRequest) {
    const now = context.now();
    const resolved = await resolveMetricsQuery(context.database.db, request.installation, request.query, now);
    if (!resolved.query) return { resolved, model: null };
    const query: MetricsQuery = resolved.query;
    const model = await buildMetricsViewModel(
      context.database.db,
      request.installation,
      { ...resolved, query },
      now,
      caches,
    );
    return { resolved, model };
  }

  app.get(base, route, async (request, reply) => {
    const { resolved, model } = await view(request);
    if (!model) return refuse(request, reply, resolved);
    return page(request, reply, "metrics", model);
  });

  // The report alone, which the page polls while data arrives (see metrics-report.eta).
  app.get(`${base}/live`, route, async (request, reply) => {
    const { resolved, model } = await view(request);
    if (!model) return refuse(request, reply, resolved);
    return fragment(reply, "metrics-report", { report: model.report });
  });

  // The repository search box's suggestions as one types: tracked repositories by name.
  const search = {
    schema: { params: installationParams, querystring: repositorySearchQuery },
    config: { access: "installation-admin" as const },
  };
  app.get(`${base}/repositories`, search, async (request, reply) => {
    const text = (request.query.repoName ?? "").trim();
    const repositories = await searchTrackedRepositories(
      context.database.db,
      request.installation.id,
      text,
      REPOSITORY_CHOICES,
    );
    return fragment(reply, "repository-options", { repositories });
  });

  const csvRoute = {
    schema: { params: installationParams, querystring: metricsCsvQuery },
    config: {
      access: "installation-admin" as const,
      invalidInput: (request: FastifyRequest, reply: FastifyReply) => {
        const { excluded } = (request.query ?? {}) as { excluded?: unknown };
        if (excluded === undefined || excluded === "" || excluded === "include")
          return refuse(request, reply);
        return reply.code(400).type("text/plain; charset=utf-8").send(EXCLUDED_MESSAGE);
      },
    },
  };

  app.get(`${base}.csv`, csvRoute, async (request, reply) => {
    const { installation } = request;
    const resolved = await resolveMetricsQuery(
      context.database.db,
      installation,
      request.query,
      context.now(),
    );
    if (!resolved.query) return refuse(request, reply, resolved);
    const query = resolved.query;
    const batches = streamPullRequestExport(
      context.database.sql,
      installation.id,
      {
        from: query.from,
        to: query.to,
        timeZone: parseInstallationSettings(installation.settings).timezone,
        repoId: query.repoId,
        teamId: query.teamId,
        humansOnly: !query.includeBots,
        includeExcluded: request.query.excluded === "include",
      },
      CSV_BATCH_ROWS,
    );
    // Two batches in flight at most: the cursor reads on only as fast as the browser downloads.
    // When the download stops half-way, the stream is destroyed and the cursor (and its
    // connection) closed with it.
    const csv = Readable.from(stringifyCsvBatches(batches), { highWaterMark: 2 });
    csv.on("error", (error) => {
      request.log.warn({ err: error, installationId: installation.id }, "metrics export ended early");
    });
    return reply
      .header("content-type", "text/csv; charset=utf-8")
      .header(
        "content-disposition",
        `attachment; filename="${csvFilename(installation.accountLogin, query, resolved.repository?.fullName)}"`,
      )
      .send(csv);
  });
}
