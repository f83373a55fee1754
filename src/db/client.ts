import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres, { type Sql } from "postgres";
import * as schema from "./schema/index.js";

export type Db = PostgresJsDatabase<typeof schema>;

export interface Database {
  sql: Sql;
  db: Db;
  close(): Promise<void>;
}

export function createDatabase(url: string, options: { max?: number } = {}): Database {
  const sql = postgres(url, {
    // Default pool: sized for a 2-core box running web + workers; pg-boss keeps a pool of its own.
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: "pr-pulse" },
  });
  return { sql, db: wrap(sql), close: () => sql.end({ timeout: 5 }) };
}

/** A drizzle handle over a postgres.js connection or transaction, so queries run inside `sql.begin`. */
export function wrap(sql: Sql): Db {
  return drizzle(sql, { schema });
}

/**
 * Runs `work` in one transaction. Pass its `db` to enqueue({ tx }) and pg-boss writes the job in
 * the same transaction, so rows and the jobs that process them commit together.
 */
export async function withTransaction<T>(database: Pick<Database, "sql">, work: (db: Db) => Promise<T>): Promise<T> {
  return (await database.sql.begin((tx) => work(wrap(tx as unknown as Sql)))) as T;
}
