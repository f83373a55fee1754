import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import * as schema from "../../src/db/schema/index.js";
import {
  deleteIdentityMatch,
  findCommitIdentity,
  listCommitIdentities,
  parseIdentityKey,
  saveIdentityMatch,
  upsertMembers,
} from "../../src/db/queries/members.js";
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

describe("manual matches", () => {
  const INSTALLATION = 2;
  const ADMIN = 9001;

  beforeAll(async () => {
    await database.db
      .insert(schema.installations)
      .values({ id: INSTALLATION, accountId: 2, accountLogin: "globex", accountType: "Organization" });
    await upsertMembers(database.db, INSTALLATION, [
      { userId: 21, login: "cat", email: "cat@globex.example" },
      { userId: 22, login: "dan", email: "dan@globex.example" },
      { userId: 23, login: "eve", email: "eve@globex.example" },
    ]);
    const at = (sha: string, patch: Partial<typeof schema.commits.$inferInsert>) =>
      commit(sha, { installationId: INSTALLATION, ...patch });
    await database.db.insert(schema.commits).values([
      // Linked to cat's account, with dan's email: the account wins over the email.
      at("m1", { authorId: 21, authorLogin: "cat", authorEmail: "dan@globex.example" }),
      at("m2", { authorId: 21, authorLogin: "cat", authorEmail: "Cat@Home.example" }),
      // Not linked, dan's email in another case.
      at("m3", { authorId: null, authorEmail: "DAN@globex.example", authorName: "Dan" }),
      // Not linked, nobody's email.
      at("m4", { authorId: null, authorEmail: "eve.personal@mail.example", authorName: "Eve" }),
      at("m5", { authorId: null, authorEmail: "eve.personal@mail.example", authorName: "Eve" }),
      at("m6", { authorId: null, authorEmail: "eve.personal@mail.example", authorName: "Eve" }),
    ]);
  });

  beforeEach(async () => {
    await database.db.delete(schema.identityMatches);
  });

  const resolve = async () =>
    Object.fromEntries(
      (await listCommitIdentities(database.db, INSTALLATION)).map((identity) => [
        identity.identity,
        { member: identity.memberUserId, by: identity.matchedBy },
      ]),
    );

  it("groups commits by linked account, else by lower-cased email, and matches id before email", async () => {
    expect(await resolve()).toEqual({
      "id:21": { member: 21, by: "id" },
      "email:dan@globex.example": { member: 22, by: "email" },
      "email:eve.personal@mail.example": { member: null, by: null },
    });
    const [eve] = await listCommitIdentities(database.db, INSTALLATION);
    expect(eve).toMatchObject({ identity: "email:eve.personal@mail.example", commits: 3, authorName: "Eve" });
  });

  it("lets a manual match win over the linked account and the email, and a match to nobody unmatch", async () => {
    const now = new Date("2026-03-01T10:00:00Z");
    const match = (identity: string, memberUserId: number | null) =>
      saveIdentityMatch(database.db, {
        installationId: INSTALLATION,
        identity,
        memberUserId,
        matchedByUserId: ADMIN,
        now,
      });
    await match("id:21", 23);
    await match("email:dan@globex.example", null);
    await match("email:eve.personal@mail.example", 23);
    expect(await resolve()).toEqual({
      "id:21": { member: 23, by: "manual" },
      "email:dan@globex.example": { member: null, by: null },
      "email:eve.personal@mail.example": { member: 23, by: "manual" },
    });
    const dan = await findCommitIdentity(database.db, INSTALLATION, {
      kind: "email",
      email: "dan@globex.example",
    });
    expect(dan).toMatchObject({ manual: true, memberUserId: null, automaticMemberUserId: 22, commits: 1 });

    // Removing a manual match gives the identity back to the automatic rule.
    expect(await deleteIdentityMatch(database.db, INSTALLATION, "id:21")).toBe(true);
    expect(await deleteIdentityMatch(database.db, INSTALLATION, "id:21")).toBe(false);
    expect((await resolve())["id:21"]).toEqual({ member: 21, by: "id" });
  });

  it("keeps one installation's matches out of another's", async () => {
    await saveIdentityMatch(database.db, {
      installationId: 1,
      identity: "email:eve.personal@mail.example",
      memberUserId: 7,
      matchedByUserId: ADMIN,
      now: new Date(),
    });
    expect((await resolve())["email:eve.personal@mail.example"]).toEqual({ member: null, by: null });
  });
});

describe("identity keys", () => {
  it.each([
    ["id:42", { kind: "id", authorId: 42 }],
    ["email:ada@acme.example", { kind: "email", email: "ada@acme.example" }],
    ["id:0", null],
    ["id:-1", null],
    ["id:1.5", null],
    ["id:99999999999999999", null],
    ["email:", null],
    ["email:a\u0000b", null],
    ["login:ada", null],
    ["", null],
  ])("parses %j", (raw, expected) => {
    expect(parseIdentityKey(raw)).toEqual(expected);
  });
});
