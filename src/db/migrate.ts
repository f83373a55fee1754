import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { wrap } from "./client.js";

/**
 * Top-level db/ holds the SQL that drizzle-kit generated from src/db/schema. This file runs from
 * src/db (tsx, jest) or dist/src/db (build), so look upwards for it.
 */
export const migrationsFolder = findMigrationsFolder(path.dirname(fileURLToPath(import.meta.url)));

function findMigrationsFolder(from: string): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "db", "meta", "_journal.json"))) return path.join(dir, "db");
  }
  throw new Error(`No db/meta/_journal.json above ${from}`);
}

// Any constant works; it only has to be the same in every replica.
const MIGRATION_LOCK_ID = 727_001;

/**
 * Applies pending migrations. Replicas starting together on one Postgres take turns on an advisory
 * lock, so each migration runs exactly once.
 */
export async function migrateDatabase(url: string, folder = migrationsFolder): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    await migrate(wrap(sql), { migrationsFolder: folder });
    await sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
