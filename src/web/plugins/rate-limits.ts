import fastifyRateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import { asArray } from "./route-hooks.js";

export interface RateLimitSettings {
  webhookPath: string;
  /** Per client IP and minute; 0 turns a limit off. Refused webhook requests with GitHub's User-Agent. */
  webhookRateLimitPerMinute: number;
  /** Refused webhook requests from other senders. */
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
 * it depends on the trust-proxy setting) and per process.
 *
 * On the webhook endpoint only requests refused for what they carry count (a wrong signature, a
 * refused body, a GUID already stored), never a new, correctly signed delivery: GitHub does not
 * retry a refused delivery, so a burst of its own (a mass rebase, a release day) must never be
 * throttled, however fast, and a sender without the secret can only produce requests that count.
 *
 * - Senders that do not say they are GitHub (User-Agent GitHub-Hookshot/…) get a small allowance
 *   of such requests; an IP that used it up is refused before its body is even read, until its
 *   minute is over.
 * - Requests that say they come from GitHub are held only by a generous allowance: behind a proxy
 *   every client may share one IP, and a flood must not lock GitHub out with it, while a sender
 *   that fakes the header still cannot pass the signature check and is stopped by that allowance.
 * - The settings UI (pages, sign-in, setup) has its own allowance of every request; health checks,
 *   /metrics and the stylesheet have none.
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

  const allowance = (max: number, scope: string) =>
    max > 0
      ? app.createRateLimit({
          max,
          timeWindow: MINUTE_MS,
          keyGenerator: (request) => `${scope}:${request.ip}`,
        })
      : undefined;
  const fromOthers = allowance(settings.invalidWebhookRateLimitPerMinute, "webhook-refused");
  const fromGitHub = allowance(settings.webhookRateLimitPerMinute, "webhook-refused-hookshot");
  const allowanceFor = (request: FastifyRequest) =>
    request.headers["user-agent"]?.startsWith(GITHUB_USER_AGENT) ? fromGitHub : fromOthers;

  const refuseSpentSenders: Hook = async (request, reply) => {
    const limit = allowanceFor(request);
    if (!limit) return;
    const state = await limit(request, { increment: false });
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
    await allowanceFor(request)?.(request);
  };

  app.addHook("onRoute", (route: RouteOptions) => {
    if (route.url === settings.webhookPath) {
      if (!fromOthers && !fromGitHub) return;
      route.onRequest = [...asArray(route.onRequest), refuseSpentSenders as never];
      route.onResponse = [...asArray(route.onResponse), countRefused as never];
      return;
    }
    if (!uiLimit || UNLIMITED.some((pattern) => pattern.test(route.url))) return;
    route.onRequest = [...asArray(route.onRequest), uiLimit as never];
  });
}
