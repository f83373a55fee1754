import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import postgres from "postgres";
import { migrateDatabase, migrationsFolder } from "../../src/db/migrate.js";

// db/0009_canonical_bot_logins.sql on rows as they were before it: the GraphQL sync stored a bot's
// login without GitHub's "[bot]" suffix. A database migrated up to the migration before it gets
// those rows, then every migration left.

const MIGRATION = "0009_canonical_bot_logins";
let adminUrl: string;
let name: string;
let url: string;
let sql: postgres.Sql;
let earlierMigrations: string;

/** db/ as it was before MIGRATION: its journal ends with the migration before. */
async function migrationsBefore(tag: string): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), "pr-pulse-migrations-"));
  await cp(migrationsFolder, folder, { recursive: true });
  const journalPath = path.join(folder, "meta", "_journal.json");
  const journal = JSON.parse(await readFile(journalPath, "utf8")) as { entries: { tag: string }[] };
  const index = journal.entries.findIndex((entry) => entry.tag === tag);
  expect(index).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, index);
  await writeFile(journalPath, JSON.stringify(journal));
  return folder;
}

beforeAll(async () => {
  adminUrl = process.env.TEST_ADMIN_DATABASE_URL!;
  name = `pr_pulse_migration_${Date.now()}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const target = new URL(adminUrl);
  target.pathname = `/${name}`;
  url = target.toString();
  earlierMigrations = await migrationsBefore(MIGRATION);
  await migrateDatabase(url, earlierMigrations);
  sql = postgres(url, { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await rm(earlierMigrations, { recursive: true, force: true });
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
});

it("adds [bot] to the logins of rows GitHub typed as Bot, and to nothing else", async () => {
  await sql`insert into installations (id, account_id, account_login, account_type)
            values (1, 10, 'acme', 'Organization')`;
  const authors: [number, string | null, string | null][] = [
    [1, "Bot", "dependabot"], // stored by the GraphQL sync
    [2, "Bot", "renovate[bot]"], // stored by a webhook
    [3, "User", "dependabot"], // a person may be called that
    [4, null, "ghost"],
    [5, "Bot", null],
  ];
  for (const [id, type, login] of authors) {
    await sql`insert into pull_requests
                (installation_id, id, repo_id, number, title, state, head_ref, base_ref, created_at,
                 updated_at, author_type, author_login)
              values (1, ${id}, 100, ${id}, 'title', 'open', 'head', 'main', now(), now(), ${type}, ${login})`;
  }
  const reviewers: [number, string | null, string | null][] = [
    [11, "Bot", "github-actions"],
    [12, "Bot", "copilot-pull-request-reviewer[bot]"],
    [13, "User", "octocat"],
  ];
  for (const [id, type, login] of reviewers) {
    await sql`insert into reviews (id, installation_id, pull_request_id, repo_id, state, reviewer_type, reviewer_login)
              values (${id}, 1, 1, 100, 'approved', ${type}, ${login})`;
  }

  await migrateDatabase(url);

  expect(await sql`select id::int, author_login from pull_requests order by id`).toEqual([
    { id: 1, author_login: "dependabot[bot]" },
    { id: 2, author_login: "renovate[bot]" },
    { id: 3, author_login: "dependabot" },
    { id: 4, author_login: "ghost" },
    { id: 5, author_login: null },
  ]);
  expect(await sql`select id::int, reviewer_login from reviews order by id`).toEqual([
    { id: 11, reviewer_login: "github-actions[bot]" },
    { id: 12, reviewer_login: "copilot-pull-request-reviewer[bot]" },
    { id: 13, reviewer_login: "octocat" },
  ]);
});
