import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { eq, sql } from "drizzle-orm";
import { withTransaction } from "../src/db/client.js";
import { webhookDeliveries } from "../src/db/schema/index.js";
import { createTestDatabase, type TestDatabase } from "./support/database.js";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

it("clones a migrated database for each test file", async () => {
  const tables = await database.sql<{ table_name: string }[]>`
    select table_name from information_schema.tables where table_schema = 'public' order by table_name`;
  expect(tables.map((t) => t.table_name)).toEqual(
    expect.arrayContaining(["installations", "pull_requests", "reviews", "commits", "webhook_deliveries"]),
  );
});

it("prepares drizzle's statements as postgres.js prepares its own: once a connection, then reused", async () => {
  const prepared = await withTransaction(database, async (db) => {
    for (const id of ["a", "b"]) {
      await db
        .select({ id: webhookDeliveries.id })
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.id, id));
    }
    return db.execute<{ statement: string }>(sql`select statement from pg_prepared_statements`);
  });
  expect([...prepared].filter(({ statement }) => statement.includes('from "webhook_deliveries"'))).toEqual([
    { statement: 'select "id" from "webhook_deliveries" where "webhook_deliveries"."id" = $1' },
  ]);
});
