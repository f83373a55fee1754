import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { loadConfig } from "../config.js";
import { OPEN_DATA_SCHEMA, grantReaderRole } from "../db/reader-role.js";
import { AppError } from "../errors.js";

/**
 * `npm run db:reader-role -- --name grafana`: creates a Postgres login role that reads the open-data
 * views (schema pr_pulse_v1) and nothing else, or gives a role it made before a new password. The
 * password is generated and printed once, never stored or logged: a lost one is replaced by
 * running the command again. Runs with DATABASE_URL, as a user that may create roles (the app's
 * own user when it owns the database and has CREATEROLE, or an administrator).
 */

const USAGE = "Usage: npm run db:reader-role -- --name <role> (lower-case letters, digits, underscores)";

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { name: { type: "string" } }, strict: true });
  if (!values.name) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  if (!config.databaseUrl) {
    console.error("Set DATABASE_URL to the app's database (the embedded Postgres has no role to hand out).");
    return 2;
  }
  // 24 random bytes: 192 bits, in base64url so that it fits any connection string unescaped.
  const password = randomBytes(24).toString("base64url");
  const sql = postgres(config.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const { created } = await grantReaderRole(sql, values.name, password);
    const url = new URL(config.databaseUrl);
    console.log(
      `${created ? "Created" : "Updated"} role ${values.name}: it reads the views of schema ${OPEN_DATA_SCHEMA} only.`,
    );
    console.log(`Password (shown once): ${password}`);
    console.log(
      `Connect with host ${url.hostname}, port ${url.port || "5432"}, database ${url.pathname.slice(1)}.`,
    );
    return 0;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  // Postgres's own words for a refused statement (no CREATEROLE, say); never the connection string.
  const message =
    error instanceof AppError || error instanceof postgres.PostgresError ? error.message : String(error);
  console.error(`Could not create the role: ${message}`);
  process.exitCode = 1;
}
