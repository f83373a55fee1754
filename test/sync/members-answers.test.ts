import { describe, expect, it } from "@jest/globals";
import { asc } from "drizzle-orm";
import nock from "nock";
import * as schema from "../../src/db/schema/index.js";
import { enqueue } from "../../src/queue/boss.js";
import { GITHUB_API, mockInstallationToken } from "../support/github-nock.js";
import { useTestApp } from "../support/harness.js";

// The members sync marks inactive whoever is missing from GitHub's listing. That is only right for
// a complete listing: an answer without the organization (and without an error), an empty one, or
// one that cannot be followed to its end must deactivate nobody. The same holds for the teams it
// lists next: only a complete listing removes a team or a membership.

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

const pageEnd = { hasNextPage: false, endCursor: null as string | null };
const teamListing = (nodes: unknown[], pageInfo = pageEnd) => ({
  rateLimit,
  organization: { teams: { pageInfo, nodes } },
});
const team = (databaseId: number, slug: string, memberNodes: unknown[], pageInfo = pageEnd) => ({
  id: `T_${databaseId}`,
  databaseId,
  slug,
  name: slug,
  description: null,
  parentTeam: null,
  members: { pageInfo, nodes: memberNodes },
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

async function seedTeams() {
  await t.database.db.insert(schema.teams).values([
    { installationId, id: 10, slug: "web", name: "web" },
    { installationId, id: 11, slug: "api", name: "api" },
  ]);
  await t.database.db.insert(schema.teamMembers).values([
    { installationId, teamId: 10, userId: 1, login: "ada" },
    { installationId, teamId: 11, userId: 2, login: "grace" },
  ]);
}

async function storedTeams() {
  const rows = await t.database.db
    .select({ teamId: schema.teamMembers.teamId, userId: schema.teamMembers.userId })
    .from(schema.teamMembers)
    .orderBy(asc(schema.teamMembers.teamId), asc(schema.teamMembers.userId));
  const teams = await t.database.db
    .select({ id: schema.teams.id })
    .from(schema.teams)
    .orderBy(schema.teams.id);
  return { teams: teams.map((row) => row.id), memberships: rows.map((row) => `${row.teamId}:${row.userId}`) };
}

async function syncWith(answer: unknown, teamsAnswer: unknown = teamListing([])) {
  mockInstallationToken(installationId);
  nock(GITHUB_API)
    .post("/graphql", (body: { query: string }) => body.query.includes("query OrganizationMembers("))
    .reply(200, { data: answer });
  nock(GITHUB_API)
    .post("/graphql", (body: { query: string }) => body.query.includes("query OrganizationTeams("))
    .reply(200, { data: teamsAnswer });
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

  it.each([
    ["no organization and no error", { rateLimit, organization: null }],
    ["an organization without a team list", { rateLimit, organization: { teams: null } }],
    ["a next page of teams without a cursor", teamListing([], { hasNextPage: true, endCursor: null })],
    [
      "a team whose members cannot be followed",
      teamListing([team(10, "web", [member(1, "ada")], { hasNextPage: true, endCursor: null })]),
    ],
  ])("removes no team or membership on %s", async (_name, teamsAnswer) => {
    await seedMembers();
    await seedTeams();
    const { job } = await syncWith(listing([member(1, "ada"), member(2, "grace")]), teamsAnswer);
    expect(await storedTeams()).toEqual({ teams: [10, 11], memberships: ["10:1", "11:2"] });
    expect(job).toEqual({ state: "completed", output: { skipped: "teams_answer_untrusted" } });
  });

  it("removes the teams and memberships a complete listing leaves out", async () => {
    await seedMembers();
    await seedTeams();
    const { job } = await syncWith(
      listing([member(1, "ada"), member(2, "grace")]),
      teamListing([team(10, "web", [member(2, "grace")])]),
    );
    expect(await storedTeams()).toEqual({ teams: [10], memberships: ["10:2"] });
    expect(job?.state).toBe("completed");
  });
});
