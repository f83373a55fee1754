import { sql as drizzleSql } from "drizzle-orm";
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { fromDrizzle, type Db as JobDb } from "pg-boss";
import postgres, { type ReservedSql, type Sql, type TransactionSql } from "postgres";
import * as schema from "./schema/index.js";

type RootDb = PostgresJsDatabase<typeof schema>;
type Transaction = Parameters<Parameters<RootDb["transaction"]>[0]>[0];
/** A database handle or a transaction: every query in src/db/queries takes either. */
export type Db = RootDb | Transaction;

export interface Database {
  sql: Sql;
  db: RootDb;
  close(): Promise<void>;
}

export function createDatabase(
  url: string,
  options: { max?: number; applicationName?: string } = {},
): Database {
  const sql = postgres(url, {
    // Default pool: sized for a 2-core box running web + workers; pg-boss keeps a pool of its own.
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? "pr-pulse" },
    // After a Postgres restart or failover the pool is back within seconds: postgres.js waits up to
    // 20 s between reconnection attempts by default, 2 s at most here.
    backoff: (retries) => Math.min(0.05 * 2 ** retries, 2),
  });
  return { sql, db: wrap(preparing(sql)), close: () => sql.end({ timeout: 5 }) };
}

export function wrap(sql: Sql): RootDb {
  return drizzle(sql, { schema });
}

/** What drizzle's postgres.js driver calls on its client (`options` on the root only). */
interface DriverClient {
  options?: Sql["options"];
  unsafe: Sql["unsafe"];
  begin?: (work: (tx: DriverClient) => unknown) => Promise<unknown>;
  savepoint?: (work: (tx: DriverClient) => unknown) => Promise<unknown>;
}

/**
 * `sql` as drizzle's client, with drizzle's statements prepared as postgres.js's own are (its
 * `prepare` option, true by default). drizzle runs every statement built without `.prepare(name)`
 * with `prepare: false` (drizzle-orm#6096), and postgres.js then sends each one with parameters in
 * two round trips, Parse and Describe, then Bind and Execute, and Postgres parses and plans it
 * every time. Prepared, a statement is parsed once per connection and sent in one round trip.
 * Statements whose text varies with their number of rows are prepared once per size; postgres.js
 * recycles its connections (max_lifetime, 30 to 60 minutes), and with them what they prepared.
 */
function preparing(sql: Sql): Sql {
  return driverClient(sql, sql.options.prepare) as unknown as Sql;
}

function driverClient(sql: Sql | TransactionSql, prepare: boolean): DriverClient {
  return {
    ...("options" in sql ? { options: sql.options } : {}),
    unsafe: (query, parameters, options) => sql.unsafe(query, parameters, { ...options, prepare }),
    ...("begin" in sql ? { begin: (work) => sql.begin((tx) => work(driverClient(tx, prepare))) } : {}),
    ...("savepoint" in sql
      ? { savepoint: (work) => sql.savepoint((tx) => work(driverClient(tx, prepare))) }
      : {}),
  };
}

/** Advisory lock namespaces (the first key of Postgres's two-key form). */
export const LOCK_NAMESPACE = {
  backfill: 727_100,
  weeklyMetrics: 727_101,
  recompute: 727_102,
  /** A repository's first window being counted (sync/first-window.ts). */
  firstWindowCount: 727_103,
  /** The lane paging an installation's full first windows (sync/first-window.ts). */
  firstWindowChain: 727_104,
} as const;

/**
 * Runs `work` holding a session advisory lock, taken on a connection reserved for it: a crashed
 * process's lock ends with its connection, so nothing stays locked. Returns `{ locked: false }`
 * without running `work` when another session holds the lock. The second key is a hash of `key`:
 * two keys may share a lock (they then take turns), never the other way round.
 */
export async function withAdvisoryLock<T>(
  database: Pick<Database, "sql">,
  namespace: number,
  key: string,
  work: () => Promise<T>,
): Promise<{ locked: true; value: T } | { locked: false }> {
  const connection = await database.sql.reserve();
  try {
    const [row] = await connection<{ locked: boolean }[]>`
      select pg_try_advisory_lock(${namespace}::int, hashtext(${key})) as locked`;
    if (!row?.locked) return { locked: false };
    return { locked: true, value: await holdingLock(connection, namespace, key, work) };
  } finally {
    connection.release();
  }
}

/**
 * As withAdvisoryLock for several keys at once: takes those no other session holds, in order and
 * at most `most` of them, and runs `work` with them (the rest are another worker's, or left for
 * one). Returns `{ locked: false }` without running `work` when every key is taken.
 */
export async function withFreeAdvisoryLocks<T>(
  database: Pick<Database, "sql">,
  namespace: number,
  keys: string[],
  work: (held: string[]) => Promise<T>,
  most = keys.length,
): Promise<{ locked: true; value: T } | { locked: false }> {
  const connection = await database.sql.reserve();
  const held: string[] = [];
  try {
    for (const key of keys) {
      if (held.length >= most) break;
      const [row] = await connection<{ locked: boolean }[]>`
        select pg_try_advisory_lock(${namespace}::int, hashtext(${key})) as locked`;
      if (row?.locked) held.push(key);
    }
    if (held.length === 0) return { locked: false };
    return { locked: true, value: await work(held) };
  } finally {
    try {
      if (held.length > 0) {
        await connection`
          select pg_advisory_unlock(${namespace}::int, hashtext(key)) from unnest(${held}::text[]) as key`;
      }
    } finally {
      connection.release();
    }
  }
}

/** As withAdvisoryLock, but waits for the lock when another session holds it: callers take turns. */
export async function inTurn<T>(
  database: Pick<Database, "sql">,
  namespace: number,
  key: string,
  work: () => Promise<T>,
): Promise<T> {
  const connection = await database.sql.reserve();
  try {
    await connection`select pg_advisory_lock(${namespace}::int, hashtext(${key}))`;
    return await holdingLock(connection, namespace, key, work);
  } finally {
    connection.release();
  }
}

async function holdingLock<T>(
  connection: ReservedSql,
  namespace: number,
  key: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } finally {
    await connection`select pg_advisory_unlock(${namespace}::int, hashtext(${key}))`;
  }
}

/** Whether Postgres answers (readiness checks). */
export async function pingDatabase(database: Pick<Database, "sql">): Promise<boolean> {
  try {
    await database.sql`select 1`;
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves once Postgres answers again, or after `timeoutMs` (false then). A job that failed because
 * Postgres went away waits here before pg-boss records the failure, which needs Postgres too.
 */
export async function waitForDatabase(
  database: Pick<Database, "sql">,
  { timeoutMs = 60_000, intervalMs = 500 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pingDatabase(database)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Runs `work` in one transaction. Pass its `db` to enqueue({ tx }) and pg-boss writes the job in
 * the same transaction, so rows and the jobs that process them commit together.
 */
export async function withTransaction<T>(
  database: Pick<Database, "db">,
  work: (db: Db) => Promise<T>,
): Promise<T> {
  return database.db.transaction((tx) => work(tx));
}

/**
 * Runs `work` in a savepoint of the caller's transaction: if it throws, its statements are rolled
 * back and the transaction goes on (a batch's work that failed as a whole is done again in parts).
 */
export async function withSavepoint<T>(db: Db, work: (db: Db) => Promise<T>): Promise<T> {
  return db.transaction((savepoint) => work(savepoint));
}

/** The transaction as pg-boss's database adapter: a job sent through it commits with the rows. */
export function jobDatabase(db: Db): JobDb {
  return fromDrizzle(db, drizzleSql);
}
