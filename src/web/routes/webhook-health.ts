import type { FastifyInstance } from "fastify";
import { openInstallation } from "../access.js";
import { fragment, page } from "../render.js";
import type { UiContext } from "../ui.js";
import { buildWebhookHealthLive, buildWebhookHealthViewModel } from "../view-models/webhook-health.js";

/**
 * The webhook health of an installation: deliveries, failures, lag and queues (a fragment htmx
 * refreshes every few seconds), and the drift the nightly sync found. Read-only.
 */

type Params = { installationId: string };

export async function webhookHealthRoutes(app: FastifyInstance, context: UiContext) {
  const base = "/installations/:installationId/webhooks";

  app.get<{ Params: Params }>(base, async (request, reply) => {
    const installation = (await openInstallation(context.access, request, reply))?.installation;
    if (!installation) return;
    const model = await buildWebhookHealthViewModel(context.database.db, installation, context.now());
    return page(request, reply, "webhook-health", model);
  });

  app.get<{ Params: Params }>(`${base}/live`, async (request, reply) => {
    const installation = (await openInstallation(context.access, request, reply))?.installation;
    if (!installation) return;
    const live = await buildWebhookHealthLive(context.database.db, installation, context.now());
    return fragment(reply, "webhook-health-live", { live });
  });
}
