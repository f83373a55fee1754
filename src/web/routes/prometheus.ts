import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Config } from "../../config.js";
import type { AppMetrics } from "../../observability/metrics.js";
import { noQuery } from "../contract.js";
import { isLoopback } from "../loopback.js";
import { sameSecret } from "../state-cookie.js";

/** What decides who may scrape. */
export interface MetricsAccessSettings {
  /** METRICS_TOKEN: when set, a scrape must carry it as a bearer token. */
  token: string | undefined;
  baseUrl: Config["baseUrl"];
  trustProxy: Config["trustProxy"];
}

export interface PrometheusRouteOptions extends MetricsAccessSettings {
  metrics: AppMetrics;
}

const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip"] as const;

/**
 * Who may read /metrics. With METRICS_TOKEN, whoever sends `Authorization: Bearer <token>`.
 * Without it, only a request made on this machine, by a deployment no proxy serves: a reverse
 * proxy on the same host connects from loopback on behalf of the whole internet, and need not say
 * so in a header. So the socket's own peer address (never a header a client can write) must be
 * loopback, no forwarding header may be present, no proxy may be trusted (TRUST_PROXY says one
 * exists), and BASE_URL must be loopback too (a public BASE_URL is reached through something that
 * forwards to this port). Anything served publicly needs METRICS_TOKEN to be scraped.
 */
export function metricsAccess(
  request: Pick<FastifyRequest, "headers" | "socket">,
  settings: MetricsAccessSettings,
): "allowed" | "unauthorized" | "forbidden" {
  if (settings.token) {
    const expected = `Bearer ${settings.token}`;
    return sameSecret(request.headers.authorization ?? "", expected) ? "allowed" : "unauthorized";
  }
  const local = isLoopback(request.socket.remoteAddress ?? "");
  const forwarded = FORWARDING_HEADERS.some((name) => request.headers[name] !== undefined);
  const proxied = settings.trustProxy !== false || !isLoopback(new URL(settings.baseUrl).hostname);
  return local && !forwarded && !proxied ? "allowed" : "forbidden";
}

/** GET /metrics: Prometheus exposition of this process (src/observability/metrics.ts). */
export async function prometheusRoutes(app: FastifyInstance, options: PrometheusRouteOptions) {
  const route = { schema: { querystring: noQuery }, config: { access: "public" as const } };
  app.get("/metrics", route, async (request, reply) => {
    const access = metricsAccess(request, options);
    if (access === "unauthorized") {
      return reply.code(401).header("www-authenticate", "Bearer").send({ error: "Bearer token required" });
    }
    if (access === "forbidden") {
      return reply.code(403).send({
        error:
          "Without METRICS_TOKEN, metrics are served only to this machine, when neither BASE_URL nor TRUST_PROXY says a proxy serves it; set METRICS_TOKEN to scrape",
      });
    }
    return reply.type(options.metrics.contentType).send(await options.metrics.render());
  });
}
