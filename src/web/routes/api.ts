import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { selectPullRequestExport } from "../../db/queries/metrics.js";
import { listTeams } from "../../db/queries/teams.js";
import { RequestInputError } from "../../errors.js";
import { listWeeks } from "../../metrics/range.js";
import { parseInstallationSettings } from "../../settings.js";
import type { Installation } from "../../db/schema/index.js";
import { installationParams, noQuery, query, text, type ZodTypeProvider } from "../contract.js";
import type { UiContext } from "../ui.js";
import { decodeCursor, encodeCursor, figuresJson, pullRequestJson, teamJson } from "../view-models/api.js";
import {
  createSummaryCache,
  readViewFigures,
  resolveMetricsQuery,
  type MetricsQuery,
} from "../view-models/metrics.js";
import { metricsQuery, metricsQueryShape } from "./metrics.js";

/**
 * The read API, version 1 (README "Open data"): an installation's pull requests, weekly figures
 * and teams as JSON, behind a token of that installation (config.access "api-token",
 * src/web/gate.ts). Filters are the metrics page's (range, from, to, repo, team, bots), read by
 * the page's own resolveMetricsQuery, and the numbers come from the queries the page and its CSV
 * read: the same filter gives the same numbers everywhere.
 */

/** Pull requests per page when the client does not say; at most MAX_LIMIT. */
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

const pullRequestsQuery = query({
  ...metricsQueryShape,
  cursor: text(200).optional(),
  limit: z
    .string({ error: "Expected one number." })
    .regex(/^[1-9][0-9]{0,3}$/, `Expected a number from 1 to ${MAX_LIMIT}.`)
    .transform(Number)
    .refine((limit) => limit <= MAX_LIMIT, `Expected a number from 1 to ${MAX_LIMIT}.`)
    .optional()
    .default(DEFAULT_LIMIT),
});

export async function apiRoutes(fastify: FastifyInstance, context: UiContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const base = "/api/v1/installations/:installationId";
  const summaries = createSummaryCache();

  // JSON for every refusal in this scope, field by field, as the page says it.
  app.setErrorHandler(async (error, _request, reply) => {
    if (!(error instanceof RequestInputError)) throw error;
    return reply.code(400).send({ error: error.message, fields: error.issues });
  });

  /** The page's filter of the query string, or undefined after a 400 naming each bad field. */
  async function readFilter(installation: Installation, raw: unknown, reply: FastifyReply) {
    const resolved = await resolveMetricsQuery(context.database.db, installation, raw, context.now());
    if (resolved.query) return resolved.query;
    const fields = Object.entries(resolved.errors).map(([field, message]) => ({ field, message }));
    reply.code(400).send({ error: "The filter cannot be used.", fields });
    return undefined;
  }

  const scope = (installation: Installation, query: MetricsQuery) => ({
    from: query.from,
    to: query.to,
    timeZone: parseInstallationSettings(installation.settings).timezone,
    repoId: query.repoId,
    teamId: query.teamId,
    humansOnly: !query.includeBots,
  });
  const access = { access: "api-token" as const };

  app.get(
    `${base}/pull-requests`,
    { schema: { params: installationParams, querystring: pullRequestsQuery }, config: access },
    async (request, reply) => {
      const { installation } = request;
      const after = request.query.cursor === undefined ? undefined : decodeCursor(request.query.cursor);
      if (after === null) return reply.code(400).send({ error: "cursor: not a cursor this API gave." });
      const filter = await readFilter(installation, request.query, reply);
      if (!filter) return;
      const limit = request.query.limit;
      // One row more than asked: whether a next page exists, without counting.
      const rows = await selectPullRequestExport(
        context.database.sql,
        installation.id,
        scope(installation, filter),
        {
          after,
          limit: limit + 1,
        },
      );
      const page = rows.slice(0, limit);
      return {
        from: filter.from,
        to: filter.to,
        pull_requests: page.map(pullRequestJson),
        next_cursor: rows.length > limit ? encodeCursor(page.at(-1)!) : null,
      };
    },
  );

  app.get(
    `${base}/weekly-metrics`,
    { schema: { params: installationParams, querystring: metricsQuery }, config: access },
    async (request, reply) => {
      const { installation } = request;
      const filter = await readFilter(installation, request.query, reply);
      if (!filter) return;
      const view = scope(installation, filter);
      const read = await readViewFigures(
        context.database.db,
        installation.id,
        view,
        context.now(),
        summaries,
      );
      return {
        from: filter.from,
        to: filter.to,
        time_zone: view.timeZone,
        repo_id: filter.repoId ?? null,
        team_id: filter.teamId ?? null,
        include_bots: filter.includeBots,
        weeks: listWeeks(filter.from, filter.to).map((weekStart, index) => ({
          week_start: weekStart,
          ...figuresJson(read.figures[index]!),
        })),
        totals: figuresJson(read.totals),
        data_as_of: read.dataAsOf?.toISOString() ?? null,
        pending_weeks: read.pendingWeeks,
      };
    },
  );

  app.get(
    `${base}/teams`,
    { schema: { params: installationParams, querystring: noQuery }, config: access },
    async (request) => ({
      teams: (await listTeams(context.database.db, request.installation.id)).map(teamJson),
    }),
  );
}
