import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { findPerson, findTeam } from "../../db/queries/teams.js";
import { id, installationParams, type ZodTypeProvider } from "../contract.js";
import { notFound } from "../gate.js";
import { page } from "../render.js";
import type { UiContext } from "../ui.js";
import { createSummaryCache, formView, resolveMetricsQuery } from "../view-models/metrics.js";
import {
  buildPersonViewModel,
  buildTeamsViewModel,
  buildTeamViewModel,
  personPath,
  teamPath,
  teamsPath,
} from "../view-models/teams.js";
import { installationHeader } from "../view-models/installation.js";
import { metricsQuery } from "./metrics.js";

/**
 * The Teams tab: the teams with their review load, a team's page, and a person's reviews. They take
 * the metrics page's query (range, repository, bots); a team or person of another installation is
 * a 404, like an installation the admin does not administer.
 */
export async function teamRoutes(fastify: FastifyInstance, context: UiContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const caches = { figures: createSummaryCache(), reviews: createSummaryCache<unknown>() };
  const access = "installation-admin" as const;
  const db = () => context.database.db;

  /** The page's form as typed, a message beside each field that cannot be used, and nothing else. */
  async function refuse(
    request: FastifyRequest,
    reply: FastifyReply,
    action: (installationId: number) => string,
  ) {
    const { installation } = request;
    const resolved = await resolveMetricsQuery(db(), installation, request.query, context.now());
    return page(request, reply.code(400), "teams", {
      title: `Teams · ${installation.accountLogin}`,
      installation: installationHeader(installation, "teams"),
      form: formView(installation, resolved, action(installation.id)),
      refused: true,
    });
  }
  const route = <P>(params: P, action: (installationId: number) => string) => ({
    schema: { params, querystring: metricsQuery },
    config: {
      access,
      invalidInput: (request: FastifyRequest, reply: FastifyReply) => refuse(request, reply, action),
    },
  });

  app.get(
    "/installations/:installationId/teams",
    route(installationParams, teamsPath),
    async (request, reply) => {
      const { installation } = request;
      const resolved = await resolveMetricsQuery(db(), installation, request.query, context.now());
      if (!resolved.query) return refuse(request, reply, teamsPath);
      const model = await buildTeamsViewModel(
        db(),
        installation,
        { ...resolved, query: resolved.query },
        caches,
      );
      return page(request, reply, "teams", model);
    },
  );

  const teamParams = installationParams.extend({ teamId: id });
  app.get(
    "/installations/:installationId/teams/:teamId",
    route(teamParams, (installationId) => teamsPath(installationId)),
    async (request, reply) => {
      const { installation } = request;
      const team = await findTeam(db(), installation.id, request.params.teamId);
      if (!team) return notFound(request, reply);
      const now = context.now();
      const resolved = await resolveMetricsQuery(db(), installation, request.query, now);
      if (!resolved.query)
        return refuse(request, reply, (installationId) => teamPath(installationId, team.id));
      const model = await buildTeamViewModel(db(), installation, team, {
        resolved: { ...resolved, query: resolved.query },
        now,
        caches,
      });
      return page(request, reply, "team", model);
    },
  );

  const personParams = installationParams.extend({ userId: id });
  app.get(
    "/installations/:installationId/people/:userId",
    route(personParams, (installationId) => teamsPath(installationId)),
    async (request, reply) => {
      const { installation } = request;
      const person = await findPerson(db(), installation.id, request.params.userId);
      if (!person) return notFound(request, reply);
      const now = context.now();
      const resolved = await resolveMetricsQuery(db(), installation, request.query, now);
      if (!resolved.query)
        return refuse(request, reply, (installationId) => personPath(installationId, person.userId));
      const model = await buildPersonViewModel(db(), installation, person, {
        resolved: { ...resolved, query: resolved.query },
        now,
        caches,
      });
      return page(request, reply, "person", model);
    },
  );
}
