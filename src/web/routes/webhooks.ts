import type { FastifyInstance } from "fastify";
import type { Probot } from "probot";
import { cleanJson } from "../../text.js";
import { checkPayload } from "../../webhooks/payloads.js";
import type { Intake } from "../intake.js";

export interface WebhookRouteOptions {
  path: string;
  bodyLimit: number;
  /** Undefined in setup mode: deliveries are refused until the App is registered. */
  probot: Probot | undefined;
  intake: Intake | undefined;
}

interface PayloadIds {
  action?: unknown;
  installation?: { id?: unknown };
  repository?: { id?: unknown };
}

const positiveInteger = (value: unknown): number | null =>
  typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : null;

/**
 * Durable webhook intake. The signature is checked on the exact bytes GitHub signed (this scope
 * parses bodies as raw buffers), then the delivery and the job that processes it are committed in
 * one transaction before GitHub gets its 2xx. A redelivered GUID is acknowledged and not queued
 * again; events the App does not handle are recorded as ignored.
 */
export async function webhookRoutes(app: FastifyInstance, options: WebhookRouteOptions) {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: options.bodyLimit }, (_request, body, done) =>
    done(null, body),
  );

  app.post(options.path, async (request, reply) => {
    const { probot, intake } = options;
    if (!probot || !intake) {
      return reply.code(503).send({ error: "The GitHub App is not registered yet; finish setup first." });
    }
    const event = request.headers["x-github-event"];
    const deliveryId = request.headers["x-github-delivery"];
    const signature = request.headers["x-hub-signature-256"];
    const body = request.body;
    if (typeof signature !== "string" || signature.length === 0) {
      return reply.code(401).send({ error: "Missing x-hub-signature-256 header" });
    }
    if (!Buffer.isBuffer(body) || body.length === 0) {
      return reply.code(400).send({ error: "Empty body" });
    }
    const verified = await probot.webhooks.verify(body.toString("utf8"), signature).catch(() => false);
    if (!verified) return reply.code(401).send({ error: "Invalid signature" });
    if (typeof event !== "string" || !/^[a-z_]+$/.test(event)) {
      return reply.code(400).send({ error: "Missing or invalid x-github-event header" });
    }
    if (typeof deliveryId !== "string" || deliveryId.length === 0 || deliveryId.length > 100) {
      return reply.code(400).send({ error: "Missing or invalid x-github-delivery header" });
    }

    const text = body.toString("utf8");
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return reply.code(400).send({ error: "Body is not valid JSON" });
    }
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
      return reply.code(400).send({ error: "Body is not a JSON object" });
    }

    const ids = payload as PayloadIds;
    const action = typeof ids.action === "string" ? ids.action : null;
    const check = checkPayload(event, action, payload);
    const handled = check.handled && check.ok;
    const refused = check.handled && !check.ok ? check.reason : null;
    const { stored: accepted } = await intake.store({
      id: deliveryId,
      event,
      action,
      installationId: positiveInteger(ids.installation?.id),
      repositoryId: positiveInteger(ids.repository?.id),
      status: handled ? "queued" : "ignored",
      lastError: refused,
      payloadJson: storableJson(text, payload),
      process: handled,
    });
    if (refused !== null) {
      request.log.warn(
        { deliveryId, event, action, reason: refused },
        "webhook payload does not match its event",
      );
      return reply.code(400).send({ error: `Payload does not match the ${event} event (${refused})` });
    }
    request.log.info({ deliveryId, event, action, handled, duplicate: !accepted }, "webhook received");
    return reply.code(202).send({ ok: true, duplicate: !accepted, handled });
  });
}

/**
 * The payload as Postgres will store it. The received text is kept as it is unless it escapes
 * U+0000 or a surrogate (jsonb refuses U+0000 and lone surrogates): then the parsed value is
 * cleaned and serialised again.
 */
function storableJson(text: string, payload: unknown): string {
  return /\\u(0000|[dD][89a-fA-F])/.test(text) ? JSON.stringify(cleanJson(payload)) : text;
}
