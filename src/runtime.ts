import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import type { ConstructorOptions, PgBoss } from "pg-boss";
import type { Logger } from "pino";
import type { Probot } from "probot";
import SmeeClient from "smee-client";
import { ConfigError, type Config } from "./config.js";
import { createDatabase, type Database } from "./db/client.js";
import { startEmbeddedPostgres, type RunningPostgres } from "./db/embedded.js";
import { migrateDatabase } from "./db/migrate.js";
import { describeError } from "./errors.js";
import { createGitHubAppClientFactory } from "./github/app-client.js";
import { createGitHubClientFactory } from "./github/installation-client.js";
import { createProbot } from "./github/probot.js";
import { startWorkers } from "./jobs/worker.js";
import { createLogger } from "./logger.js";
import { AppMetrics } from "./observability/metrics.js";
import { retireQueues, startBoss } from "./queue/boss.js";
import type { QueueKey } from "./queue/catalog.js";
import { scheduleMaintenance } from "./queue/schedule.js";
import { buildServer, WEBHOOK_PATH } from "./server.js";
import { queueMissingWorkingHours } from "./sync/recompute.js";
import { setupLink } from "./web/setup-token.js";
import { createWebhookApp } from "./webhooks/app.js";

/**
 * The composition root, and the only one: production (src/main.ts), the tests, the benchmarks and
 * the demo all start PR Pulse here.
 *
 *   config → database (+ migrations) → pg-boss → Probot and the GitHub client factory → webhook
 *   handlers → job workers → HTTP server → listen (→ smee)
 *
 * and stop() undoes it in reverse. Without App credentials only the database and the setup-mode
 * server start; once the manifest flow stored credentials, the App part starts with them. If that
 * switch fails, a setup-mode server keeps serving and its page says why.
 */

export interface RuntimeOptions {
  config: Config;
  log?: Logger;
  /** The clock sync windows, progress and rate-limit pauses are computed from. */
  now?: () => Date;
  /** The queues this process works; all by default, none for an intake-only process. */
  queues?: readonly QueueKey[];
  /** pg-boss tuning, e.g. faster monitoring in tests that kill workers. */
  boss?: Partial<ConstructorOptions>;
  /** Reads the configuration again after the manifest flow stored the App's credentials. */
  reloadConfig?: () => Config;
}

export interface Runtime {
  readonly config: Config;
  readonly log: Logger;
  readonly database: Database;
  /** http://host:port the server listens on. */
  readonly url: string;
  readonly server: FastifyInstance;
  /** Undefined in setup mode. */
  readonly boss: PgBoss | undefined;
  readonly probot: Probot | undefined;
  stop(): Promise<void>;
}

/** The database every process of this deployment shares on the embedded Postgres. */
const EMBEDDED_DATABASE = "pr_pulse";
/**
 * Stop budget, inside the 25 s main.ts allows after SIGTERM (Kubernetes' default grace is 30 s):
 * in-flight requests get 5 s, then workers get 12 s to finish their jobs (what is left is failed
 * back to pg-boss and retried elsewhere), then the pools close.
 */
const SERVER_CLOSE_MS = 5_000;
const STOP_GRACE_MS = 12_000;

interface Services {
  config: Config;
  /** Aborted when stop begins: long jobs end their slice early and queue their continuation. */
  stopping?: AbortController;
  server: FastifyInstance;
  boss?: PgBoss;
  probot?: Probot;
  smee?: SmeeClient;
}

export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const log = options.log ?? createLogger(options.config);
  const now = options.now ?? (() => new Date());
  // One registry for the life of the process, across the switch from setup mode to the App.
  const metrics = new AppMetrics();

  // 1. Database: the configured one, or an embedded Postgres; migrations under an advisory lock.
  const { url, embedded } = await resolveDatabase(options.config, log);
  await migrateDatabase(url);
  const database = createDatabase(url, {
    max: options.config.databasePoolSize,
    applicationName: options.config.databaseApplicationName,
  });

  // 2. The App (or setup mode), listening.
  let port = options.config.port;
  let services: Services;
  let restarting: Promise<void> | undefined;
  /** Why the last switch to the registered App failed; the setup page shows it. */
  let problem: string | undefined;
  const deps = { ...options, log, now, database, databaseUrl: url, setupProblem: () => problem };
  const start = async (config: Config): Promise<Services> => {
    const started = await startServices(config, { ...deps, metrics }, () => {
      // The manifest flow stored credentials: switch to them once, whatever the number of callbacks.
      restarting ??= switchToRegisteredApp()
        .catch((error: unknown) => log.fatal({ err: error }, "setup mode could not be restarted"))
        .finally(() => (restarting = undefined));
    });
    try {
      await started.server.listen({ port, host: config.host });
      port = (started.server.server.address() as AddressInfo).port;
      if (config.webhookProxyUrl) started.smee = await startSmee(config, port, log);
    } catch (error) {
      await stopServices(started);
      throw error;
    }
    log.info({ url: config.baseUrl, mode: config.app ? "app" : "setup" }, "pr pulse listening");
    return started;
  };
  /**
   * After the manifest flow: the configuration is read again and the App starts with the new
   * credentials. A configuration error leaves the setup server as it is; a start that fails is
   * followed by setup mode again. Either way the setup page then says what went wrong.
   */
  const switchToRegisteredApp = async () => {
    if (services.config.app) return;
    const setup = services.config;
    let config: Config;
    try {
      config = options.reloadConfig?.() ?? setup;
      if (!config.app) {
        throw new ConfigError(
          "the configuration read after registering has no complete App credentials (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET)",
        );
      }
    } catch (error) {
      problem = describeError(error);
      log.error({ err: error }, "cannot switch to the registered github app");
      return;
    }
    log.info("github app registered: restarting with its credentials");
    await stopServices(services);
    try {
      services = await start(config);
      problem = undefined;
    } catch (error) {
      problem = describeError(error);
      log.error({ err: error }, "cannot start with the registered github app; back in setup mode");
      services = await start(setup);
    }
  };
  try {
    services = await start(options.config);
  } catch (error) {
    await database.close();
    await embedded?.stop();
    throw error;
  }

  return {
    get config() {
      return services.config;
    },
    log,
    database,
    get url() {
      return `http://${services.config.host === "0.0.0.0" ? "127.0.0.1" : services.config.host}:${port}`;
    },
    get server() {
      return services.server;
    },
    get boss() {
      return services.boss;
    },
    get probot() {
      return services.probot;
    },
    async stop() {
      await restarting;
      await stopServices(services);
      await database.close();
      await embedded?.stop();
    },
  };
}

async function startServices(
  config: Config,
  deps: RuntimeOptions & {
    log: Logger;
    now: () => Date;
    database: Database;
    databaseUrl: string;
    setupProblem: () => string | undefined;
    metrics: AppMetrics;
  },
  onRegistered: () => void,
): Promise<Services> {
  const { log, now, database, metrics } = deps;
  const credentials = config.app;
  if (!credentials) {
    // The link holds the setup token: whoever reads this log started the server, and may finish setup.
    log.warn({ setupUrl: setupLink(config) }, "setup mode: open the setup link to register the GitHub App");
    metrics.watch({ database });
    const server = await buildServer({
      config,
      database,
      log,
      onRegistered,
      setupProblem: deps.setupProblem,
      metrics,
    });
    return { config, server };
  }
  const boss = await startBoss(deps.databaseUrl, log, config.jobs, {
    application_name: `${config.databaseApplicationName}-jobs`,
    ...deps.boss,
  });
  try {
    await retireQueues(boss, database, log);
    const probot = createProbot(config, credentials, log);
    const github = createGitHubClientFactory(probot, now, (installationId) =>
      metrics.githubUsage(installationId),
    );
    await probot.load(createWebhookApp({ database, boss, log }));
    const app = createGitHubAppClientFactory(probot);
    const stopping = new AbortController();
    await startWorkers(
      boss,
      { config, database, boss, probot, github, app, log, now, metrics, stopping: stopping.signal },
      deps.queues,
    );
    await scheduleMaintenance(boss, config.operations);
    const missing = await queueMissingWorkingHours(database, boss);
    if (missing > 0) log.info({ installations: missing }, "working hours queued for stored pull requests");
    metrics.watch({ boss, database });
    const server = await buildServer({ config, database, log, probot, boss, github, now, metrics });
    return { config, server, boss, probot, stopping };
  } catch (error) {
    await boss.stop({ graceful: false });
    throw error;
  }
}

/**
 * Stops accepting (the listener closes; requests in flight finish, new ones on kept-alive
 * connections get 503), then stops the workers gracefully: jobs finish or are handed back to
 * pg-boss, never lost.
 */
async function stopServices(services: Services): Promise<void> {
  services.stopping?.abort();
  await services.smee?.stop();
  const closed = services.server.close();
  const timer = setTimeout(() => services.server.server.closeAllConnections(), SERVER_CLOSE_MS);
  await closed.finally(() => clearTimeout(timer));
  await services.boss?.stop({ graceful: true, timeout: STOP_GRACE_MS });
}

/** Local development: GitHub posts to a smee.io channel; smee-client replays each delivery here. */
async function startSmee(config: Config, port: number, log: Logger): Promise<SmeeClient> {
  const smee = new SmeeClient({
    source: config.webhookProxyUrl!,
    target: `http://127.0.0.1:${port}${WEBHOOK_PATH}`,
    logger: {
      info: (...args: unknown[]) => log.debug({ smee: args.join(" ") }, "smee"),
      error: (...args: unknown[]) => log.warn({ smee: args.join(" ") }, "smee"),
    },
  });
  await smee.start();
  return smee;
}

async function resolveDatabase(
  config: Config,
  log: Logger,
): Promise<{ url: string; embedded?: RunningPostgres }> {
  if (config.databaseUrl) return { url: config.databaseUrl };
  const embedded = await startEmbeddedPostgres({
    ...config.embeddedPostgres,
    persistent: true,
    database: EMBEDDED_DATABASE,
    log,
  });
  return { url: embedded.url, embedded };
}
