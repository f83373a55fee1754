import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifyFormbody from "@fastify/formbody";
import fastifyView from "@fastify/view";
import { Eta } from "eta";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import type { Probot } from "probot";
import type { Config } from "./config.js";
import type { Database } from "./db/client.js";
import { AppError } from "./errors.js";
import type { GitHubClientFactory } from "./github/installation-client.js";
import type { RegisteredApp } from "./github/manifest.js";
import { logSerializers, resolveLogFormat } from "./logger.js";
import type { AppMetrics } from "./observability/metrics.js";
import { requireRouteContracts, useZodContract } from "./web/contract.js";
import { answerBadInputWithPages } from "./web/gate.js";
import { createIntake } from "./web/intake.js";
import { installRateLimits } from "./web/plugins/rate-limits.js";
import { logRequestsQuietly } from "./web/plugins/request-log.js";
import { observeWebhookIntake } from "./web/plugins/webhook-metrics.js";
import { assetRoutes } from "./web/routes/assets.js";
import { healthRoutes } from "./web/routes/health.js";
import { prometheusRoutes } from "./web/routes/prometheus.js";
import { setupRoutes } from "./web/routes/setup.js";
import { webhookRoutes } from "./web/routes/webhooks.js";
import { securityHeaders } from "./web/security-headers.js";
import { settingsUi } from "./web/ui.js";

export interface ServerDeps {
  config: Config;
  database: Database;
  log: Logger;
  /** All three undefined in setup mode. */
  probot?: Probot | undefined;
  boss?: PgBoss | undefined;
  github?: GitHubClientFactory | undefined;
  now?: () => Date;
  onRegistered?: (app: RegisteredApp) => void;
  /** Setup mode: why switching to the registered App failed, shown on the setup page. */
  setupProblem?: () => string | undefined;
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
  if (config.trustProxy === true) {
    // Every client may then write its own address into X-Forwarded-For: rate limits and logs believe it.
    deps.log.warn(
      "TRUST_PROXY=true trusts X-Forwarded-For from anyone: set it to the proxy's address (loopback for a proxy on this host)",
    );
  }
  const app = Fastify({
    logController: new LogController({ disableRequestLogging: quietRequests }),
    // Request URLs are logged with their codes, states and tokens redacted, errors without query parameters.
    loggerInstance: deps.log.child({}, { serializers: logSerializers }) as FastifyBaseLogger,
    // Request ids are the server's own: no client chooses what the logs call its request. The
    // webhook route adds the (validated) delivery GUID to its own log lines.
    requestIdHeader: false,
    trustProxy: config.trustProxy,
  });

  // The default 404 handler logs the raw URL, query included; the request line is logged redacted already.
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: "Not found" }));

  if (!deps.probot) {
    // Setup mode ends by closing this server; no kept-alive connection may hold that up for the
    // 72 seconds of Fastify's keep-alive (a request still in flight then would otherwise keep one).
    app.addHook("onSend", async (_request, reply) => {
      reply.header("connection", "close");
    });
  }

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

  // Every route declares its input (zod) and who may enter, or is refused here (src/web/contract.ts).
  useZodContract(app);
  requireRouteContracts(app);

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

  await app.register(securityHeaders, { config });
  await app.register(assetRoutes, { viewsDir });

  await app.register(healthRoutes, { database: deps.database, boss: deps.boss });
  if (deps.metrics) {
    await app.register(prometheusRoutes, {
      metrics: deps.metrics,
      token: config.operations.metricsToken,
      baseUrl: config.baseUrl,
      trustProxy: config.trustProxy,
    });
  }
  await app.register(webhookRoutes, {
    path: WEBHOOK_PATH,
    bodyLimit: config.webhookBodyLimit,
    secret: deps.probot ? config.app?.webhookSecret : undefined,
    intake: deps.boss ? createIntake(deps.database, deps.boss, config.webhookBatchSize) : undefined,
  });
  if (deps.probot && deps.boss && deps.github) {
    await app.register(settingsUi, {
      config,
      database: deps.database,
      log: deps.log,
      probot: deps.probot,
      boss: deps.boss,
      github: deps.github,
      now: deps.now ?? (() => new Date()),
    });
  } else {
    await app.register(async (ui) => {
      answerBadInputWithPages(ui);
      await ui.register(fastifyFormbody);
      await ui.register(setupRoutes, {
        config,
        database: deps.database,
        onRegistered: deps.onRegistered ?? (() => {}),
        problem: deps.setupProblem ?? (() => undefined),
      });
    });
  }
  return app;
}
