import dotenv from "dotenv";
import type { FastifyInstance } from "fastify";
import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import SmeeClient from "smee-client";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { createDatabase, type Database } from "./db/client.js";
import { startEmbeddedPostgres, type RunningPostgres } from "./db/embedded.js";
import { migrateDatabase } from "./db/migrate.js";
import { createApp } from "./github/app.js";
import { createGitHubClientFactory } from "./github/installation-client.js";
import { createProbot } from "./github/probot.js";
import { startBoss } from "./jobs/boss.js";
import { startWorkers } from "./jobs/worker.js";
import { createLogger } from "./logger.js";
import { buildServer, WEBHOOK_PATH } from "./server.js";

const APP_DATABASE = "pr_pulse";

interface Running {
  stop(): Promise<void>;
}

/** config → database → boss → probot → server → listen; stop() undoes it in reverse. */
async function startApp(
  config: Config,
  database: Database,
  databaseUrl: string,
  log: Logger,
  restart: () => void,
): Promise<Running> {
  let boss: PgBoss | undefined;
  let smee: SmeeClient | undefined;
  let server: FastifyInstance;
  const credentials = config.app;
  if (credentials) {
    boss = await startBoss(databaseUrl, log);
    const probot = createProbot(config, credentials, log);
    const github = createGitHubClientFactory(probot);
    await probot.load(createApp({ database, boss, log }));
    await startWorkers(boss, { config, database, boss, probot, github, log, now: () => new Date() });
    server = await buildServer({ config, database, log, probot, boss });
    if (config.webhookProxyUrl) {
      // Local development: GitHub posts to a smee.io channel, smee-client replays it here, with the
      // original headers, so the signature still verifies.
      smee = new SmeeClient({
        source: config.webhookProxyUrl,
        target: `http://127.0.0.1:${config.port}${WEBHOOK_PATH}`,
        logger: {
          info: (...args: unknown[]) => log.debug({ smee: args.join(" ") }, "smee"),
          error: (...args: unknown[]) => log.warn({ smee: args.join(" ") }, "smee"),
        },
      });
      await smee.start();
    }
  } else {
    log.warn("no GitHub App credentials: running in setup mode; open the home page to register the App");
    server = await buildServer({ config, database, log, onRegistered: () => setImmediate(restart) });
  }
  await server.listen({ port: config.port, host: config.host });
  log.info({ url: config.baseUrl, mode: credentials ? "app" : "setup" }, "pr pulse listening");
  return {
    async stop() {
      await smee?.stop();
      await server.close();
      await boss?.stop({ graceful: true, timeout: 10_000 });
    },
  };
}

async function resolveDatabaseUrl(
  config: Config,
  log: Logger,
): Promise<{ url: string; embedded?: RunningPostgres }> {
  if (config.databaseUrl) return { url: config.databaseUrl };
  const embedded = await startEmbeddedPostgres({ ...config.embeddedPostgres, persistent: true, log });
  const admin = createDatabase(embedded.url, { max: 1 });
  const [exists] = await admin.sql`select 1 from pg_database where datname = ${APP_DATABASE}`;
  if (!exists) await admin.sql.unsafe(`create database ${APP_DATABASE}`);
  await admin.close();
  const url = new URL(embedded.url);
  url.pathname = `/${APP_DATABASE}`;
  return { url: url.toString(), embedded };
}

function readConfig(): Config {
  dotenv.config({ path: process.env.ENV_FILE ?? ".env", quiet: true, override: false });
  return loadConfig();
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = readConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config);
  const { url, embedded } = await resolveDatabaseUrl(config, log);
  await migrateDatabase(url);
  const database = createDatabase(url);

  let running: Running;
  const restart = async () => {
    log.info("github app registered: restarting with its credentials");
    await running.stop();
    // The manifest flow wrote the new credentials to the env file; read it again over the old values.
    dotenv.config({ path: config.envFile, quiet: true, override: true });
    config = loadConfig();
    running = await startApp(config, database, url, log, () => void restart());
  };
  running = await startApp(config, database, url, log, () => void restart());

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    await running.stop();
    await database.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
