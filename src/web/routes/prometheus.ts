import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AppMetrics } from "../../observability/metrics.js";
import { sameSecret } from "../state-cookie.js";

export interface PrometheusRouteOptions {
  metrics: AppMetrics;
  /** METRICS_TOKEN: when set, a scrape must carry it as a bearer token. */
  token: string | undefined;
}

const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-real-ip"] as const;

/**
 * Who may read /metrics. With METRICS_TOKEN, whoever sends `Authorization: Bearer <token>`.
 * Without it, only a request made on this machine: the socket's own peer address (never a header a
 * client can write) is loopback, and no proxy forwarded it, since a reverse proxy on the same host
 * connects from loopback on behalf of the whole internet.
 */
export function metricsAccess(
  request: Pick<FastifyRequest, "headers" | "socket">,
  token: string | undefined,
): "allowed" | "unauthorized" | "forbidden" {
  if (token) {
    return sameSecret(request.headers.authorization ?? "", `Bearer ${token}`) ? "allowed" : "unauthorized";
  }
  const peer = request.socket.remoteAddress ?? "";
  const loopback = peer === "::1" || /^(::ffff:)?127\./.test(peer);
  const forwarded = FORWARDING_HEADERS.some((name) => request.headers[name] !== undefined);
  return loopback && !forwarded ? "allowed" : "forbidden";
}

/** GET /metrics: Prometheus exposition of this process (src/observability/metrics.ts). */
export async function prometheusRoutes(app: FastifyInstance, options: PrometheusRouteOptions) {
  app.get("/metrics", async (request, reply) => {
    const access = metricsAccess(request, options.token);
    if (access === "unauthorized") {
      return reply.code(401).header("www-authenticate", "Bearer").send({ error: "Bearer token required" });
    }
    if (access === "forbidden") {
      return reply
        .code(403)
        .send({ error: "Metrics are served to this machine only; set METRICS_TOKEN to scrape remotely" });
    }
    return reply.type(options.metrics.contentType).send(await options.metrics.render());
  });
}
