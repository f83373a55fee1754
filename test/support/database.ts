import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { createDatabase, type Database } from "../../src/db/client.js";

export interface TestDatabase extends Database {
  url: string;
  /** Empties every app table (not pg-boss's) between tests. */
  truncate(): Promise<void>;
  drop(): Promise<void>;
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
      await database.sql.unsafe(
        "truncate installations, repositories, members, pull_requests, reviews, commits, webhook_deliveries, webhook_redeliveries, app_state, weekly_metrics, weekly_metrics_pending cascade",
      );
    },
    async drop() {
      await database.close();
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}
