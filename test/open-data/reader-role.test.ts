import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import postgres from "postgres";
import { grantReaderRole } from "../../src/db/reader-role.js";
import * as schema from "../../src/db/schema/index.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

// The open data's reader role, connected as itself: it reads the pr_pulse_v1 views, and nothing
// else of the database; it cannot write through the views either. Roles belong to the cluster,
// so the name is this run's own.

let database: TestDatabase;
let reader: postgres.Sql;
const name = `reader_${randomBytes(4).toString("hex")}`;

beforeAll(async () => {
  database = await createTestDatabase();
  await database.db
    .insert(schema.installations)
    .values({ id: 1, accountId: 1, accountLogin: "acme", accountType: "Organization" });
  await database.db
    .insert(schema.members)
    .values({ installationId: 1, userId: 7, login: "ada", email: "a@x" });
  const password = randomBytes(12).toString("base64url");
  await grantReaderRole(database.sql, name, password);
  const url = new URL(database.url);
  url.username = name;
  url.password = password;
  reader = postgres(url.toString(), { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await reader?.end();
  await database.sql.unsafe(`drop owned by ${name}`);
  await database.sql.unsafe(`drop role ${name}`);
  await database?.drop();
});

describe("the reader role", () => {
  it("reads the views, without e-mail addresses", async () => {
    const rows = await reader`select * from pr_pulse_v1.members`;
    expect(rows.map((row) => row.login)).toEqual(["ada"]);
    expect(Object.keys(rows[0]!)).not.toContain("email");
  });

  it.each(["public.pull_requests", "public.sessions", "public.api_tokens", "public.webhook_deliveries"])(
    "cannot read %s",
    async (table) => {
      await expect(reader.unsafe(`select 1 from ${table} limit 1`)).rejects.toThrow(/permission denied/);
    },
  );

  it("cannot write through a view", async () => {
    await expect(reader`update pr_pulse_v1.members set login = 'x'`).rejects.toThrow(
      /read-only|permission denied/,
    );
    await expect(
      reader.begin(
        "read write",
        (tx) =>
          tx`insert into pr_pulse_v1.teams (installation_id, team_id, slug, name) values (1, 2, 'a', 'A')`,
      ),
    ).rejects.toThrow(/permission denied/);
  });

  it("refuses to take over a role it did not make", async () => {
    const [{ user } = { user: "" }] = await database.sql<{ user: string }[]>`select current_user as user`;
    await expect(grantReaderRole(database.sql, user, "x")).rejects.toThrow(/not made by this command/);
  });
});
