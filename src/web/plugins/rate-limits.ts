import fastifyRateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from "fastify";

export interface RateLimitSettings {
  webhookPath: string;
  /** Per client IP and minute; 0 turns a limit off. */
  webhookRateLimitPerMinute: number;
  invalidWebhookRateLimitPerMinute: number;
  uiRateLimitPerMinute: number;
}

const MINUTE_MS = 60_000;
/** What GitHub's webhook deliveries send as User-Agent. */
const GITHUB_USER_AGENT = "GitHub-Hookshot/";
/** Probes, scrapes and the stylesheet: cheap, and load balancers must never be throttled. */
const UNLIMITED = [/^\/healthz$/, /^\/readyz$/, /^\/metrics$/, /^\/assets\//];

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * Rate limits against floods that are not GitHub, per client IP (`request.ip`, so behind a proxy
 * it depends on the trust-proxy setting) and per process:
 *
 * - the webhook endpoint takes a generous number of requests a minute: GitHub's own bursts (a
 *   bulk change, a redelivery) reach thousands, and refusing them loses events;
 * - requests that fail the signature check count against a much smaller allowance, and an IP that
 *   used it up is refused before its body is even read, until the minute is over. Requests that
 *   say they come from GitHub (User-Agent GitHub-Hookshot/…) are exempt from the refusal: behind a
 *   proxy every client may share one IP, and a flood must not lock GitHub out with it (a sender
 *   that fakes the header is still held by the per-IP cap and cannot pass the signature check);
 * - the settings UI (pages, sign-in, setup) has its own allowance; health checks and /metrics
 *   have none.
 *
 * Must be installed before the routes: the limits are attached to each route as it is added.
 */
export async function installRateLimits(app: FastifyInstance, settings: RateLimitSettings): Promise<void> {
  await app.register(fastifyRateLimit, { global: false });
  const perMinute = (max: number, scope: string): Hook | undefined =>
    max > 0
      ? (app.rateLimit({
          max,
          timeWindow: MINUTE_MS,
          keyGenerator: (request) => `${scope}:${request.ip}`,
        }) as Hook)
      : undefined;
  const webhookLimit = perMinute(settings.webhookRateLimitPerMinute, "webhook");
  const uiLimit = perMinute(settings.uiRateLimitPerMinute, "ui");

  const invalid =
    settings.invalidWebhookRateLimitPerMinute > 0
      ? app.createRateLimit({
          max: settings.invalidWebhookRateLimitPerMinute,
          timeWindow: MINUTE_MS,
          keyGenerator: (request) => `invalid-webhook:${request.ip}`,
        })
      : undefined;
  const refuseInvalidSenders: Hook = async (request, reply) => {
    if (request.headers["user-agent"]?.startsWith(GITHUB_USER_AGENT)) return;
    const state = await invalid!(request, { increment: false });
    if (state.isAllowed || state.remaining > 0) return;
    request.log.warn({ ip: request.ip }, "webhook sender refused after too many invalid signatures");
    return reply
      .code(429)
      .header("retry-after", state.ttlInSeconds)
      .send({ error: "Too many unsigned or wrongly signed requests; try again later" });
  };
  const countInvalid: Hook = async (request, reply) => {
    if (reply.statusCode === 401) await invalid!(request);
  };

  app.addHook("onRoute", (route: RouteOptions) => {
    if (route.url === settings.webhookPath) {
      const onRequest = [webhookLimit, invalid && refuseInvalidSenders].filter(Boolean) as Hook[];
      route.onRequest = [...asArray(route.onRequest), ...(onRequest as never[])];
      if (invalid) route.onResponse = [...asArray(route.onResponse), countInvalid as never];
      return;
    }
    if (!uiLimit || UNLIMITED.some((pattern) => pattern.test(route.url))) return;
    route.onRequest = [...asArray(route.onRequest), uiLimit as never];
  });
}

function asArray<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) return [];
  return Array.isArray(hooks) ? hooks : [hooks];
}
