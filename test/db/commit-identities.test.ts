import { afterAll, beforeAll, expect, it } from "@jest/globals";
import * as schema from "../../src/db/schema/index.js";
import { listCommitIdentities, upsertMembers } from "../../src/db/queries/members.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

const commit = (sha: string, patch: Partial<typeof schema.commits.$inferInsert>) => ({
  installationId: 1,
  pullRequestId: 10,
  repoId: 100,
  sha,
  message: "change",
  ...patch,
});

it("matches commit authors to members by linked id, then by email, and keeps the rest unmatched", async () => {
  await database.db
    .insert(schema.installations)
    .values({ id: 1, accountId: 1, accountLogin: "acme", accountType: "Organization" });
  await upsertMembers(database.db, 1, [
    { userId: 7, login: "ada", email: "ada@acme.example" },
    { userId: 8, login: "bob", email: "Bob@Acme.example" },
  ]);
  await database.db
    .insert(schema.commits)
    .values([
      commit("a1", { authorId: 7, authorLogin: "ada", authorEmail: "ada@home.example" }),
      commit("a2", { authorId: 7, authorLogin: "ada", authorEmail: "ada@home.example" }),
      commit("b1", { authorId: null, authorEmail: "bob@acme.example", authorName: "Bob" }),
      commit("c1", { authorId: null, authorEmail: "contractor@else.example", authorName: "C" }),
    ]);
  const identities = await listCommitIdentities(database.db, 1);
  expect(identities).toEqual([
    expect.objectContaining({ authorId: 7, commits: 2, memberUserId: 7, matchedBy: "id" }),
    expect.objectContaining({
      authorEmail: "bob@acme.example",
      commits: 1,
      memberUserId: 8,
      matchedBy: "email",
    }),
    expect.objectContaining({
      authorEmail: "contractor@else.example",
      commits: 1,
      memberUserId: null,
      matchedBy: null,
    }),
  ]);
});
