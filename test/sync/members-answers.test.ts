import { describe, expect, it } from "@jest/globals";
import { asc } from "drizzle-orm";
import nock from "nock";
import * as schema from "../../src/db/schema/index.js";
import { enqueue } from "../../src/queue/boss.js";
import { GITHUB_API, mockInstallationToken } from "../support/github-nock.js";
import { useTestApp } from "../support/harness.js";

// The members sync marks inactive whoever is missing from GitHub's listing. That is only right for
// a complete listing: an answer without the organization (and without an error), an empty one, or
// one that cannot be followed to its end must deactivate nobody.

const t = useTestApp({ queues: ["membersSync"] });
const installationId = 3100;

const rateLimit = {
  cost: 1,
  remaining: 4999,
  resetAt: new Date(Date.now() + 3600_000).toISOString(),
  limit: 5000,
};
const member = (databaseId: number, login: string) => ({ databaseId, login, name: null, email: "" });
const listing = (nodes: unknown[], pageInfo = { hasNextPage: false, endCursor: null as string | null }) => ({
  rateLimit,
  organization: { membersWithRole: { totalCount: nodes.length, pageInfo, nodes } },
});

async function seedMembers() {
  await t.database.db.insert(schema.installations).values({
    id: installationId,
    accountId: 1,
    accountLogin: "acme",
    accountType: "Organization",
  });
  await t.database.db.insert(schema.members).values([
    { installationId, userId: 1, login: "ada" },
    { installationId, userId: 2, login: "grace" },
  ]);
}

async function syncWith(answer: unknown) {
  mockInstallationToken(installationId);
  nock(GITHUB_API)
    .post("/graphql", (body: { query: string }) => body.query.includes("query OrganizationMembers("))
    .reply(200, { data: answer });
  await enqueue(t.app.boss, "membersSync", { installationId });
  await t.app.drain(["members-sync"]);
  const members = await t.database.db
    .select({ userId: schema.members.userId, active: schema.members.active })
    .from(schema.members)
    .orderBy(asc(schema.members.userId));
  const [job] = await t.database.sql<{ state: string; output: unknown }[]>`
    select state, output from pgboss.job where name = 'members-sync'`;
  return { members, job };
}

describe("members sync", () => {
  it.each([
    ["no organization and no error", { rateLimit, organization: null }],
    ["an organization without a member list", { rateLimit, organization: { membersWithRole: null } }],
    ["an empty listing", listing([])],
    ["a next page without a cursor", listing([member(1, "ada")], { hasNextPage: true, endCursor: null })],
  ])("deactivates nobody on %s", async (_name, answer) => {
    await seedMembers();
    const { members, job } = await syncWith(answer);
    expect(members).toEqual([
      { userId: 1, active: true },
      { userId: 2, active: true },
    ]);
    expect(job).toEqual({ state: "completed", output: { skipped: "members_answer_untrusted" } });
  });

  it("marks inactive whoever a complete listing leaves out", async () => {
    await seedMembers();
    const { members, job } = await syncWith(listing([member(1, "ada")]));
    expect(members).toEqual([
      { userId: 1, active: true },
      { userId: 2, active: false },
    ]);
    expect(job?.state).toBe("completed");
  });
});
