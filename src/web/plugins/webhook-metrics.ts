import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import type { AppMetrics, WebhookIntakeOutcome } from "../../observability/metrics.js";
import { isHandledEventName } from "../../webhooks/payloads.js";
import { asArray } from "./route-hooks.js";

const outcomeKey = Symbol("webhookOutcome");
type Observed = FastifyRequest & { [outcomeKey]?: WebhookIntakeOutcome };

/** A 2xx body says whether the delivery was new and handled: `{ ok, duplicate, handled }`. */
function acceptedOutcome(payload: unknown): WebhookIntakeOutcome {
  if (typeof payload !== "string") return "accepted";
  try {
    const body = JSON.parse(payload) as { duplicate?: unknown; handled?: unknown };
    if (body.duplicate === true) return "duplicate";
    return body.handled === false ? "ignored" : "accepted";
  } catch {
    return "accepted";
  }
}

function outcomeOf(status: number): WebhookIntakeOutcome {
  if (status === 400) return "refused";
  if (status === 401) return "unauthorized";
  if (status === 413) return "too_large";
  if (status === 429) return "rate_limited";
  if (status === 503) return "unavailable";
  return status < 400 ? "accepted" : "error";
}

/**
 * Counts every request to the webhook route by event and outcome and times its answer, from
 * hooks added to that route alone (the intake route stays as it is). The event label is the
 * header only for events the App handles: anyone can send any header, and every distinct label
 * value is a new series in memory.
 */
export function observeWebhookIntake(app: FastifyInstance, path: string, metrics: AppMetrics): void {
  const onSend = async (request: Observed, reply: FastifyReply, payload: unknown) => {
    if (reply.statusCode >= 200 && reply.statusCode < 300) request[outcomeKey] = acceptedOutcome(payload);
    return payload;
  };
  const onResponse = async (request: Observed, reply: FastifyReply) => {
    const header = request.headers["x-github-event"];
    const event =
      typeof header === "string" && (isHandledEventName(header) || header === "ping") ? header : "other";
    const outcome = request[outcomeKey] ?? outcomeOf(reply.statusCode);
    metrics.webhookReceived(event, outcome, reply.elapsedTime / 1000);
  };
  app.addHook("onRoute", (route: RouteOptions) => {
    if (route.url !== path || route.method !== "POST") return;
    route.onSend = [...asArray(route.onSend), onSend as never];
    route.onResponse = [...asArray(route.onResponse), onResponse as never];
  });
}
