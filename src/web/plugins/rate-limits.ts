import fastifyRateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import { asArray } from "./route-hooks.js";

export interface RateLimitSettings {
  webhookPath: string;
  /** Refused webhook requests per client IP and minute; 0 turns the limit off. */
  invalidWebhookRateLimitPerMinute: number;
  uiRateLimitPerMinute: number;
}

const MINUTE_MS = 60_000;
/** What GitHub's webhook deliveries send as User-Agent (proxies and smee pass it on). */
const GITHUB_USER_AGENT = "GitHub-Hookshot/";
/** Probes, scrapes and the stylesheet: cheap, and load balancers must never be throttled. */
const UNLIMITED = [/^\/healthz$/, /^\/readyz$/, /^\/metrics$/, /^\/assets\//, /^\/favicon\./];

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * Rate limits against floods that are not GitHub, per client IP (`request.ip`, so behind a proxy
 * it depends on the trust-proxy setting) and per process.
 *
 * On the webhook endpoint only requests refused for what they carry count (a wrong signature, a
 * refused body, a GUID already stored), never a new, correctly signed delivery; and a correctly
 * signed delivery is never refused, whatever its address did before: GitHub does not retry a
 * refused delivery, and behind a proxy (or smee) GitHub shares its IP with whoever else sends.
 *
 * - An IP that used up its allowance of refused requests has its requests refused before their
 *   body is read, unless they say they are GitHub (User-Agent GitHub-Hookshot/…), which every
 *   real delivery does. Those are read and their signature checked as always: forging the header
 *   buys a sender the reading of its body, and nothing more.
 * - The settings UI (pages, sign-in, setup) has its own allowance of every request; health checks,
 *   /metrics, the stylesheet and the icon have none.
 *
 * Must be installed before the routes: the limits are attached to each route as it is added.
 */
export async function installRateLimits(app: FastifyInstance, settings: RateLimitSettings): Promise<void> {
  await app.register(fastifyRateLimit, { global: false });
  const uiLimit =
    settings.uiRateLimitPerMinute > 0
      ? (app.rateLimit({
          max: settings.uiRateLimitPerMinute,
          timeWindow: MINUTE_MS,
          keyGenerator: (request) => `ui:${request.ip}`,
        }) as Hook)
      : undefined;

  const refusals =
    settings.invalidWebhookRateLimitPerMinute > 0
      ? app.createRateLimit({
          max: settings.invalidWebhookRateLimitPerMinute,
          timeWindow: MINUTE_MS,
          keyGenerator: (request) => `webhook-refused:${request.ip}`,
        })
      : undefined;

  const refuseSpentSenders: Hook = async (request, reply) => {
    if (!refusals || request.headers["user-agent"]?.startsWith(GITHUB_USER_AGENT)) return;
    const state = await refusals(request, { increment: false });
    if (state.isAllowed || state.remaining > 0) return;
    request.log.warn({ ip: request.ip }, "webhook sender refused after too many refused requests");
    return reply
      .code(429)
      .header("retry-after", state.ttlInSeconds)
      .send({ error: "Too many refused webhook requests from this address; try again later" });
  };
  const countRefused: Hook = async (request, reply) => {
    // Our own failures (setup mode, a database down) are not the sender's.
    if (reply.statusCode === 429 || reply.statusCode >= 500) return;
    if (reply.statusCode === 202 && request.newDelivery) return;
    await refusals?.(request);
  };

  app.addHook("onRoute", (route: RouteOptions) => {
    if (route.url === settings.webhookPath) {
      if (!refusals) return;
      route.onRequest = [...asArray(route.onRequest), refuseSpentSenders as never];
      route.onResponse = [...asArray(route.onResponse), countRefused as never];
      return;
    }
    if (!uiLimit || UNLIMITED.some((pattern) => pattern.test(route.url))) return;
    route.onRequest = [...asArray(route.onRequest), uiLimit as never];
  });
}
