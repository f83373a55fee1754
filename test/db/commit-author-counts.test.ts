import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { eq } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import {
  compactCommitAuthorCounts,
  findCommitIdentity,
  listCommitIdentities,
} from "../../src/db/queries/members.js";
import {
  deleteRepositoryData,
  replaceCommitLists,
  upsertCommits,
} from "../../src/db/queries/pull-requests.js";
import { countIdentitiesDirectly } from "../support/commit-identities.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

// The members page reads commit_author_counts, which triggers on commits keep. Whatever writes
// commits (the sync's upserts, a changed author, force-pushed commits dropped, a repository's data
// deleted, plain SQL), the counts it shows equal a count of the commits themselves.

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  await database.db.insert(schema.installations).values([
    { id: 1, accountId: 1, accountLogin: "acme", accountType: "Organization" },
    { id: 2, accountId: 2, accountLogin: "globex", accountType: "Organization" },
  ]);
});
afterAll(async () => {
  await database.drop();
});

let nextSha = 0;
const commit = (patch: Partial<typeof schema.commits.$inferInsert>) => ({
  installationId: 1,
  pullRequestId: 10,
  repoId: 100,
  sha: `sha${++nextSha}`,
  message: "change",
  ...patch,
});

async function shown(installationId: number) {
  const identities = await listCommitIdentities(database.db, installationId);
  return identities.map(({ identity, authorLogin, authorEmail, authorName, commits }) => ({
    identity,
    authorLogin,
    authorEmail,
    authorName,
    commits,
  }));
}

async function expectExact(installationId = 1) {
  const direct = await countIdentitiesDirectly(database.sql, installationId);
  expect(direct.length).toBeGreaterThan(0);
  expect(await shown(installationId)).toEqual(direct);
}

const storedRows = async () =>
  (
    await database.db
      .select()
      .from(schema.commitAuthorCounts)
      .where(eq(schema.commitAuthorCounts.installationId, 1))
  ).length;

it("counts every write to commits, in the writing statement", async () => {
  // 1. A backfill page: a linked account under two logins (a tie: the first in order, as mode()),
  //    emails in two cases, an empty email, a commit that is nobody's, another installation.
  const ada = [
    commit({ authorId: 7, authorLogin: "ada", authorEmail: "Ada@Home.example", authorName: "Ada" }),
    commit({ authorId: 7, authorLogin: "ada-l", authorEmail: "ada@home.example", authorName: "Ada L" }),
    commit({ authorId: 7, authorLogin: "ada-l", authorEmail: "", authorName: "Ada L" }),
    commit({ authorId: 7, authorLogin: "ada", authorEmail: null, authorName: null }),
  ];
  const contractor = [1, 2, 3].map((n) =>
    commit({ pullRequestId: 11, authorEmail: "Casey@Agency.example", authorName: `Casey ${n % 2}` }),
  );
  await upsertCommits(database.db, [
    ...ada,
    ...contractor,
    commit({ pullRequestId: 11, authorEmail: "", authorName: "nobody" }),
    commit({ installationId: 2, authorEmail: "casey@agency.example", authorName: "Spy" }),
  ]);
  expect(await shown(1)).toEqual([
    {
      identity: "id:7",
      authorLogin: "ada",
      authorEmail: "ada@home.example",
      authorName: "Ada L",
      commits: 4,
    },
    {
      identity: "email:casey@agency.example",
      authorLogin: null,
      authorEmail: "casey@agency.example",
      authorName: "Casey 1",
      commits: 3,
    },
  ]);
  await expectExact();
  await expectExact(2);

  // 2. The same commits fetched again, one with its author now linked by GitHub (an update).
  await upsertCommits(database.db, [
    ...ada,
    { ...contractor[0]!, authorId: 8, authorLogin: "casey" },
    ...contractor.slice(1),
  ]);
  await expectExact();
  expect(await findCommitIdentity(database.db, 1, { kind: "id", authorId: 8 })).toMatchObject({
    commits: 1,
    authorLogin: "casey",
  });

  // 3. Force-pushed away: pull request 10 keeps one of ada's commits.
  await replaceCommitLists(database.db, 1, [{ pullRequestId: 10, shas: [ada[1]!.sha] }]);
  await expectExact();
  expect(await findCommitIdentity(database.db, 1, { kind: "id", authorId: 7 })).toMatchObject({
    commits: 1,
    authorLogin: "ada-l",
  });

  // 4. Written by plain SQL, then folded: the counts stay, the rows shrink to one per author key.
  await database.sql`
    insert into commits (installation_id, pull_request_id, repo_id, sha, message, author_email, author_name)
    select 1, 12, 200, 'bulk' || n, 'change', 'dev' || (n % 3) || '@acme.example', 'Dev'
    from generate_series(1, 30) as n`;
  await expectExact();
  const before = await storedRows();
  await compactCommitAuthorCounts(database.db, 1);
  expect(await storedRows()).toBeLessThan(before);
  await expectExact();

  // 5. A repository no longer tracked: its commits go, and so do their counts.
  await deleteRepositoryData(database.db, 1, [200]);
  await expectExact();
  expect(
    await findCommitIdentity(database.db, 1, { kind: "email", email: "dev1@acme.example" }),
  ).toBeUndefined();
  await expectExact(2);
});
