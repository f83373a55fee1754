import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { findInstallation } from "../../db/queries/installations.js";
import type { Installation } from "../../db/schema/index.js";
import { authorizeInstallation } from "../access.js";
import { fragment, message, page } from "../render.js";
import type { UiContext } from "../ui.js";
import { buildWebhookHealthLive, buildWebhookHealthViewModel } from "../view-models/webhook-health.js";

/**
 * The webhook health of an installation: deliveries, failures, lag and queues (a fragment htmx
 * refreshes every few seconds), and the drift the nightly sync found. Read-only.
 */

type Params = { installationId: string };

export async function webhookHealthRoutes(app: FastifyInstance, context: UiContext) {
  const base = "/installations/:installationId/webhooks";

  async function open(
    request: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
  ): Promise<Installation | undefined> {
    const access = await authorizeInstallation(context.access, request, reply, request.params.installationId);
    if (!access) return undefined;
    const installation = await findInstallation(context.database.db, access.installationId);
    if (!installation) {
      await message(request, reply, 404, {
        title: "Not found",
        heading: "Not found",
        message: "No such installation.",
      });
      return undefined;
    }
    return installation;
  }

  app.get<{ Params: Params }>(base, async (request, reply) => {
    const installation = await open(request, reply);
    if (!installation) return;
    const model = await buildWebhookHealthViewModel(context.database.db, installation, context.now());
    return page(request, reply, "webhook-health", model);
  });

  app.get<{ Params: Params }>(`${base}/live`, async (request, reply) => {
    const installation = await open(request, reply);
    if (!installation) return;
    const live = await buildWebhookHealthLive(context.database.db, installation, context.now());
    return fragment(reply, "webhook-health-live", { live });
  });
}
