import type { FastifyInstance } from "fastify";
import { installationParams, noQuery, type ZodTypeProvider } from "../contract.js";
import { fragment, page } from "../render.js";
import type { UiContext } from "../ui.js";
import { buildWebhookHealthLive, buildWebhookHealthViewModel } from "../view-models/webhook-health.js";

/**
 * The webhook health of an installation: deliveries, failures, lag and queues (a fragment htmx
 * refreshes every few seconds), and the drift the nightly sync found. Read-only.
 */

const route = {
  schema: { params: installationParams, querystring: noQuery },
  config: { access: "installation-admin" as const },
};

export async function webhookHealthRoutes(fastify: FastifyInstance, context: UiContext) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const base = "/installations/:installationId/webhooks";

  app.get(base, route, async (request, reply) => {
    const model = await buildWebhookHealthViewModel(context.database.db, request.installation, context.now());
    return page(request, reply, "webhook-health", model);
  });

  app.get(`${base}/live`, route, async (request, reply) => {
    const live = await buildWebhookHealthLive(context.database.db, request.installation, context.now());
    return fragment(reply, "webhook-health-live", { live });
  });
}
