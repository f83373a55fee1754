import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifyCsrfProtection from "@fastify/csrf-protection";
import fastifyFormbody from "@fastify/formbody";
import fastifyView from "@fastify/view";
import { Eta } from "eta";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import type { Probot } from "probot";
import type { Config } from "./config.js";
import type { Database } from "./db/client.js";
import { AppError } from "./errors.js";
import { resolveLogFormat } from "./logger.js";
import type { RegisteredApp } from "./github/manifest.js";
import type { AppMetrics } from "./observability/metrics.js";
import { installRateLimits } from "./web/plugins/rate-limits.js";
import { logRequestsQuietly } from "./web/plugins/request-log.js";
import { observeWebhookIntake } from "./web/plugins/webhook-metrics.js";
import { authRoutes } from "./web/routes/auth.js";
import { healthRoutes } from "./web/routes/health.js";
import { homeRoutes } from "./web/routes/home.js";
import { metricsRoutes } from "./web/routes/metrics.js";
import { setupRoutes } from "./web/routes/setup.js";
import { webhookRoutes } from "./web/routes/webhooks.js";
import { csrfOptions, readSession } from "./web/session.js";

export interface ServerDeps {
  config: Config;
  database: Database;
  log: Logger;
  /** Both undefined in setup mode. */
  probot?: Probot | undefined;
  boss?: PgBoss | undefined;
  onRegistered?: (app: RegisteredApp) => void;
  /** Prometheus metrics: GET /metrics and the webhook intake counters. */
  metrics?: AppMetrics | undefined;
}

export const WEBHOOK_PATH = "/api/github/webhooks";

/** Top-level views/, found from src/ (tsx, jest) and from dist/src/ (build). */
export const viewsDir = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  fileURLToPath(import.meta.url).includes(`${path.sep}dist${path.sep}`) ? "../../views" : "../views",
);

/** Builds the HTTP server without listening, so tests drive it with app.inject. */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const quietRequests = resolveLogFormat(config) === "pretty";
  const app = Fastify({
    disableRequestLogging: quietRequests,
    loggerInstance: deps.log as FastifyBaseLogger,
    // Probot webhooks carry their own GUID; everything else gets a request id for the logs.
    requestIdHeader: "x-github-delivery",
    trustProxy: true,
  });

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.code(status).send({ error: error.message });
    }
    request.log.error(
      { err: error, code: error instanceof AppError ? error.code : undefined },
      "request failed",
    );
    return reply.code(500).send({ error: "Internal server error" });
  });

  if (quietRequests) logRequestsQuietly(app);
  // Before any route: rate limits and intake metrics are attached to routes as they are added.
  await installRateLimits(app, { webhookPath: WEBHOOK_PATH, ...config.operations });
  if (deps.metrics) observeWebhookIntake(app, WEBHOOK_PATH, deps.metrics);

  await app.register(fastifyCookie, { secret: config.sessionSecret });
  await app.register(fastifyView, {
    engine: { eta: new Eta() },
    root: viewsDir,
    viewExt: "eta",
    production: config.env.NODE_ENV === "production",
  });

  const css = await readFile(path.join(viewsDir, "assets", "app.css"));
  app.get("/assets/app.css", async (_request, reply) =>
    reply.type("text/css").header("cache-control", "public, max-age=3600").send(css),
  );

  await app.register(healthRoutes, { database: deps.database, boss: deps.boss });
  if (deps.metrics) {
    await app.register(metricsRoutes, { metrics: deps.metrics, token: config.operations.metricsToken });
  }
  await app.register(webhookRoutes, {
    path: WEBHOOK_PATH,
    bodyLimit: config.webhookBodyLimit,
    database: deps.database,
    probot: deps.probot,
    boss: deps.boss,
  });
  await app.register(async (ui) => {
    await ui.register(fastifyFormbody);
    if (deps.probot) {
      // Signed-in admins only: every request's session cookie is verified here, and forms that
      // change state carry a CSRF token.
      await ui.register(fastifyCsrfProtection, csrfOptions(config));
      ui.decorateRequest("session", null);
      ui.addHook("onRequest", async (request) => {
        request.session = readSession(request);
      });
      await ui.register(authRoutes, { config });
      await ui.register(homeRoutes, { config, database: deps.database });
    } else {
      await ui.register(setupRoutes, { config, onRegistered: deps.onRegistered ?? (() => {}) });
    }
  });
  return app;
}
