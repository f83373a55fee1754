import { randomBytes } from "node:crypto";
import { gunzipSync } from "node:zlib";
import postgres from "postgres";
import { createDatabase, type Database } from "../../src/db/client.js";

export interface TestDatabase extends Database {
  url: string;
  /** Empties every table of the app (not pg-boss's) between tests. */
  truncate(): Promise<void>;
  drop(): Promise<void>;
}

/**
 * A statement tried again when Postgres ends it as a deadlock's victim (40P01): a worker still
 * finishing the previous test's job can hold one table (or job row) while wanting another, and
 * Postgres picks one side to fail, sometimes the test's cleanup or DDL.
 */
export async function retryOnDeadlock(statement: () => Promise<unknown>, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await statement();
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== "40P01" || attempt >= attempts) throw error;
    }
  }
}

/**
 * A stored delivery's payload, the text the intake received: `payload_text` (lz4 by Postgres),
 * else `payload_gzip` gunzipped, else the json of a delivery stored before migration 0019.
 */
export async function storedPayloadText(database: Pick<Database, "sql">, id: string): Promise<string> {
  const [row] = await database.sql<{ text: string | null; gzip: Buffer | null; json: string | null }[]>`
    select payload_text as text, payload_gzip as gzip, payload::text as json
    from webhook_deliveries where id = ${id}`;
  if (row?.text != null) return row.text;
  if (row?.gzip) return gunzipSync(row.gzip).toString("utf8");
  if (row?.json != null) return row.json;
  throw new Error(`no payload stored for delivery ${id}`);
}

/** A fresh database cloned from the migrated template: each test file is isolated from the others. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_ADMIN_DATABASE_URL;
  const template = process.env.TEST_TEMPLATE_DATABASE;
  if (!adminUrl || !template) throw new Error("test/global-setup.js did not run");
  const name = `pr_pulse_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${template}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = createDatabase(url.toString(), { max: 5 });
  return {
    ...database,
    url: url.toString(),
    async truncate() {
      // Every table of the app (pg-boss's and drizzle's live in schemas of their own).
      const tables = await database.sql<{ name: string }[]>`
        select quote_ident(tablename) as name from pg_tables where schemaname = 'public'`;
      const statement = `truncate ${tables.map((table) => table.name).join(", ")} cascade`;
      await retryOnDeadlock(() => database.sql.unsafe(statement));
    },
    async drop() {
      await database.close();
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}
