import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { checkPayload } from "../../webhooks/payloads.js";
import { noQuery } from "../contract.js";
import type { Intake } from "../intake.js";
import {
  decodeDeliveryBody,
  readDeliveryHeaders,
  verifySignature,
  type DeliveryHeaders,
} from "../webhook-delivery.js";

export interface WebhookRouteOptions {
  path: string;
  bodyLimit: number;
  /** The App's webhook secret; undefined in setup mode, where deliveries are refused. */
  secret: string | undefined;
  /** Stores accepted deliveries (group commit); undefined in setup mode. */
  intake: Intake | undefined;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The delivery's validated headers, set before its body is read. */
    delivery: DeliveryHeaders | null;
    /** Set once the request's delivery was stored as new (not a GUID seen before). */
    newDelivery: boolean;
  }
}

/** The bytes as received (this scope's parser), or nothing for an empty body. */
const rawBody = z.instanceof(Buffer).nullable();

const positiveInteger = (value: unknown): number | null =>
  typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : null;

/**
 * Durable webhook intake.
 *
 *   1. Before the body is read: setup mode, and the signature, event and delivery headers. Nobody
 *      gets the server to buffer and hash 25 MiB without a well-formed signature header.
 *   2. The HMAC over the exact bytes received (this scope parses bodies as raw buffers).
 *   3. The body (JSON, or a form's `payload` field) parsed, its nesting bounded, its strings cleaned.
 *   4. The payload checked against the schema of the event it claims to be; a mismatch is recorded
 *      as ignored with the reason and answered 400.
 *   5. The delivery and the job that processes it committed (with other deliveries arriving at the
 *      same moment: see ../intake.ts), then 202. A redelivered GUID is acknowledged and not queued
 *      again; unhandled events are recorded as ignored.
 */
export async function webhookRoutes(app: FastifyInstance, options: WebhookRouteOptions) {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: options.bodyLimit }, (_request, body, done) =>
    done(null, body),
  );
  app.decorateRequest("delivery", null);
  app.decorateRequest("newDelivery", false);

  const refuseEarly = (reply: FastifyReply, status: number, reason: string) =>
    // The body is not read: closing the connection stops the client from sending the rest of it.
    reply.code(status).header("connection", "close").send({ error: reason });

  app.post(options.path, {
    // The headers are checked before the body is read (onRequest, below), so their contract is
    // code of their own; the body is the raw bytes the signature covers.
    schema: { querystring: noQuery, body: rawBody },
    config: { access: "public" },
    // GitHub reads the answer, not a browser: the security headers of the pages (a CSP, framing)
    // say nothing to it, and @fastify/helmet builds them afresh for each request, 4% of the event
    // loop's time acknowledging 1,000 deliveries a second (bench:webhooks --profile).
    helmet: false,
    onRequest: async (request, reply) => {
      if (options.secret === undefined || options.intake === undefined) {
        return refuseEarly(reply, 503, "The GitHub App is not registered yet; finish setup first.");
      }
      const headers = readDeliveryHeaders(request.headers);
      if (!headers.ok) {
        request.log.warn({ status: headers.status, reason: headers.reason }, "webhook refused");
        return refuseEarly(reply, headers.status, headers.reason);
      }
      request.delivery = headers.value;
      // Only this route's log lines carry the delivery GUID, and only once it is known to be one.
      request.log = request.log.child({ deliveryId: headers.value.deliveryId, event: headers.value.event });
    },
    handler: async (request, reply) => {
      const { secret, intake } = options;
      const delivery = request.delivery!;
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (!verifySignature(secret!, body, delivery.signature)) {
        request.log.warn("webhook signature does not match");
        return reply.code(401).send({ error: "Invalid signature" });
      }
      const decoded = decodeDeliveryBody(body, request.headers["content-type"]);
      if (!decoded.ok) {
        request.log.warn({ reason: decoded.reason }, "webhook body refused");
        return reply.code(decoded.status).send({ error: decoded.reason });
      }

      const { event, deliveryId } = delivery;
      const payload = decoded.payload;
      const ids = payload as {
        action?: unknown;
        installation?: { id?: unknown };
        repository?: { id?: unknown };
      };
      const action = typeof ids.action === "string" ? ids.action : null;
      const check = checkPayload(event, payload);
      const handled = check.handled && check.ok;
      const refused = check.handled && !check.ok ? check.reason : null;
      const { stored: accepted } = await intake!.store({
        id: deliveryId,
        event,
        action,
        installationId: positiveInteger(ids.installation?.id),
        repositoryId: positiveInteger(ids.repository?.id),
        status: handled ? "queued" : "ignored",
        lastError: refused,
        payloadJson: decoded.json,
        payloadBytes: decoded.bytes,
        handledJson: check.handled && check.ok ? check.handledJson : null,
        process: handled,
      });
      if (refused !== null) {
        request.log.warn({ action, reason: refused }, "webhook payload does not match its event");
        return reply.code(400).send({ error: `Payload does not match the ${event} event (${refused})` });
      }
      request.newDelivery = accepted;
      request.log.info({ action, handled, duplicate: !accepted }, "webhook received");
      return reply.code(202).send({ ok: true, duplicate: !accepted, handled });
    },
  });
}
