import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
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
import type { GitHubClientFactory } from "./github/installation-client.js";
import type { RegisteredApp } from "./github/manifest.js";
import { createIntake } from "./web/intake.js";
import { assetRoutes } from "./web/routes/assets.js";
import { healthRoutes } from "./web/routes/health.js";
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
  const app = Fastify({
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
  await app.register(webhookRoutes, {
    path: WEBHOOK_PATH,
    bodyLimit: config.webhookBodyLimit,
    probot: deps.probot,
    intake: deps.boss ? createIntake(deps.database, deps.boss) : undefined,
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
      await ui.register(fastifyFormbody);
      await ui.register(setupRoutes, { config, onRegistered: deps.onRegistered ?? (() => {}) });
    });
  }
  return app;
}
