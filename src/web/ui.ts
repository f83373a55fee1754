import fastifyFormbody from "@fastify/formbody";
import type { FastifyInstance } from "fastify";
import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import type { Probot } from "probot";
import type { Config } from "../config.js";
import type { Database } from "../db/client.js";
import { fetchAppInfo, type AppInfo } from "../github/app-info.js";
import type { GitHubClientFactory } from "../github/installation-client.js";
import type { AccessDeps } from "./access.js";
import { installGate } from "./gate.js";
import { apiRoutes } from "./routes/api.js";
import { apiTokenRoutes } from "./routes/api-tokens.js";
import { authRoutes } from "./routes/auth.js";
import { homeRoutes } from "./routes/home.js";
import { memberRoutes } from "./routes/members.js";
import { metricsRoutes } from "./routes/metrics.js";
import { repositoryRoutes } from "./routes/repositories.js";
import { settingsRoutes } from "./routes/settings.js";
import { teamRoutes } from "./routes/teams.js";
import { webhookHealthRoutes } from "./routes/webhook-health.js";
import { loadSession } from "./session.js";

/** What the settings UI's routes need from the composition root. */
export interface UiDeps {
  config: Config;
  database: Database;
  log: Logger;
  probot: Probot;
  boss: PgBoss;
  github: GitHubClientFactory;
  now: () => Date;
}

/** What every page route gets: the dependencies, the access checks, the App's own description. */
export interface UiContext extends UiDeps {
  access: AccessDeps;
  /** The App's slug and page, fetched once (null while GitHub cannot be asked). */
  appInfo(): Promise<AppInfo | null>;
}

/**
 * The settings UI: sign-in, and the pages of the installations a user administers. Every request
 * in this scope has its session loaded from its cookie (request.session), then passes the gate of
 * its route's `config.access` (src/web/gate.ts) before its input is validated.
 */
export async function settingsUi(app: FastifyInstance, deps: UiDeps) {
  let appInfo: Promise<AppInfo> | undefined;
  const context: UiContext = {
    ...deps,
    access: { database: deps.database, github: deps.github, log: deps.log, now: deps.now },
    async appInfo() {
      appInfo ??= fetchAppInfo(deps.probot);
      try {
        return await appInfo;
      } catch (error) {
        appInfo = undefined;
        deps.log.warn({ err: error }, "could not read the app's description from GitHub");
        return null;
      }
    },
  };
  await app.register(fastifyFormbody);
  app.decorateRequest("session", null);
  app.addHook("onRequest", async (request) => {
    request.session = await loadSession(deps.database.db, request, deps.now());
  });
  installGate(app, context.access);
  await app.register(authRoutes, {
    config: deps.config,
    database: deps.database,
    boss: deps.boss,
    now: deps.now,
  });
  await app.register(homeRoutes, context);
  await app.register(repositoryRoutes, context);
  await app.register(settingsRoutes, context);
  await app.register(memberRoutes, context);
  await app.register(webhookHealthRoutes, context);
  await app.register(metricsRoutes, context);
  await app.register(teamRoutes, context);
  await app.register(apiTokenRoutes, context);
  await app.register(apiRoutes, context);
}
