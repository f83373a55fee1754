import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { asc, eq } from "drizzle-orm";
import { listTeamPeople, listTeams, teamClosure } from "../../src/db/queries/teams.js";
import * as schema from "../../src/db/schema/index.js";
import { sql } from "drizzle-orm";
import { enqueue } from "../../src/queue/boss.js";
import { syncTeams } from "../../src/sync/teams.js";
import { APP_ID } from "../support/app.js";
import { startFakeGitHub, type FakeGitHub, type Team, type User } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";
import { unpacedSyncContext } from "../support/sync-context.js";

// The members sync brings the organization's teams: parents, immediate members, and (when read)
// the closure that makes a child team's members members of its parents, as GitHub counts them.
// Against the fake GitHub, on GitHub's GraphQL schema and cost formula.

let github: FakeGitHub;
let nextInstallationId = 8000;

beforeAll(async () => {
  github = await startFakeGitHub({ seed: 5 });
});
const t = useTestApp(() => ({
  env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" },
  queues: ["membersSync"],
}));
afterAll(async () => {
  await github.close();
});

/** What a sync step gets from its job, with a client that does not pace itself (see below). */
const syncContext = (installationId: number) => unpacedSyncContext(github, t, installationId);

/** An organization with `members` people and the App installed (stored as the installation event leaves it). */
async function organization(members: number) {
  const installationId = nextInstallationId++;
  const login = `teams${installationId}`;
  const seeded = github.world.seedOrg({
    login,
    repos: 0,
    prsPerRepo: 0,
    members,
    installationId,
    appId: Number(APP_ID),
  });
  await t.database.db.insert(schema.installations).values({
    id: installationId,
    accountId: seeded.org.id,
    accountLogin: login,
    accountType: "Organization",
  });
  return { installationId, login, people: seeded.members };
}

async function syncMembers(installationId: number) {
  await enqueue(t.app.boss, "membersSync", { installationId });
  await t.app.drain(["members-sync"], 60_000);
  const [job] = await t.database.sql<{ state: string; output: unknown }[]>`
    select state, output from pgboss.job where name = 'members-sync' order by created_on desc limit 1`;
  return job;
}

async function storedTeams(installationId: number) {
  return t.database.db
    .select({
      id: schema.teams.id,
      slug: schema.teams.slug,
      name: schema.teams.name,
      parentId: schema.teams.parentId,
    })
    .from(schema.teams)
    .where(eq(schema.teams.installationId, installationId))
    .orderBy(asc(schema.teams.id));
}

async function storedMemberships(installationId: number) {
  const rows = await t.database.db
    .select({ teamId: schema.teamMembers.teamId, userId: schema.teamMembers.userId })
    .from(schema.teamMembers)
    .where(eq(schema.teamMembers.installationId, installationId));
  return rows.map((row) => `${row.teamId}:${row.userId}`).sort();
}

/** Who is in each team, sub-teams included, as the app reads it: team id → sorted user ids. */
async function closure(installationId: number): Promise<Record<number, number[]>> {
  const rows = await t.database.db.execute<{ team_id: string; user_id: string }>(
    sql`select team_id::text, user_id::text from ${teamClosure(installationId)} c order by 1, 2`,
  );
  const byTeam: Record<number, number[]> = {};
  for (const row of rows) (byTeam[Number(row.team_id)] ??= []).push(Number(row.user_id));
  for (const ids of Object.values(byTeam)) ids.sort((a, b) => a - b);
  return byTeam;
}

describe("teams sync", () => {
  it("stores teams with their parents and immediate members; a child team's members count for every team above it", async () => {
    const { installationId, login, people } = await organization(8);
    const [ada, grace, linus, margaret, ken, barbara] = people as [User, User, User, User, User, User];
    const world = github.world;
    // Engineering ⊃ Platform ⊃ Infra, Engineering ⊃ Product; Design apart.
    const engineering = world.addTeam(login, { name: "Engineering" });
    const platform = world.addTeam(login, { name: "Platform", parentId: engineering.id });
    const infra = world.addTeam(login, { name: "Infra & Ops", parentId: platform.id });
    const product = world.addTeam(login, { name: "Product", parentId: engineering.id });
    const design = world.addTeam(login, { name: "Design", privacy: "secret" });
    const join = (team: Team, ...users: User[]) =>
      users.forEach((user) => world.addTeamMember(team.id, user.id));
    join(engineering, ada);
    join(platform, grace, linus);
    join(infra, margaret, grace);
    join(product, ken);
    join(design, barbara, ada);

    expect(await syncMembers(installationId)).toMatchObject({ state: "completed" });

    expect(await storedTeams(installationId)).toEqual([
      { id: engineering.id, slug: "engineering", name: "Engineering", parentId: null },
      { id: platform.id, slug: "platform", name: "Platform", parentId: engineering.id },
      { id: infra.id, slug: "infra-ops", name: "Infra & Ops", parentId: platform.id },
      { id: product.id, slug: "product", name: "Product", parentId: engineering.id },
      { id: design.id, slug: "design", name: "Design", parentId: null },
    ]);
    // Immediate members only, as GitHub lists them.
    expect(await storedMemberships(installationId)).toEqual(
      [
        [engineering, ada],
        [platform, grace],
        [platform, linus],
        [infra, margaret],
        [infra, grace],
        [product, ken],
        [design, barbara],
        [design, ada],
      ]
        .map(([team, user]) => `${team!.id}:${user!.id}`)
        .sort(),
    );
    const ids = (...users: User[]) => users.map((user) => user.id).sort((a, b) => a - b);
    expect(await closure(installationId)).toEqual({
      [engineering.id]: ids(ada, grace, linus, margaret, ken),
      [platform.id]: ids(grace, linus, margaret),
      [infra.id]: ids(margaret, grace),
      [product.id]: ids(ken),
      [design.id]: ids(barbara, ada),
    });
    // The teams page's listing: parents before children, counts with and without sub-teams.
    expect(
      (await listTeams(t.database.db, installationId)).map((team) => [
        team.name,
        team.depth,
        team.members,
        team.directMembers,
        team.subTeams,
      ]),
    ).toEqual([
      ["Design", 0, 2, 2, 0],
      ["Engineering", 0, 5, 1, 2],
      ["Platform", 1, 3, 2, 1],
      ["Infra & Ops", 2, 2, 2, 0],
      ["Product", 1, 1, 1, 0],
    ]);
    expect(
      (await listTeamPeople(t.database.db, installationId, platform.id)).map((person) => [
        person.login,
        person.direct,
      ]),
    ).toEqual(
      [
        [grace.login, true],
        [linus.login, true],
        [margaret.login, false],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
  }, 60_000);

  it("follows GitHub: a re-parented team takes its members along, and deleted teams and memberships are gone", async () => {
    const { installationId, login, people } = await organization(4);
    const [ada, grace, linus] = people as [User, User, User];
    const world = github.world;
    const web = world.addTeam(login, { name: "Web" });
    const mobile = world.addTeam(login, { name: "Mobile" });
    const ios = world.addTeam(login, { name: "iOS", parentId: mobile.id });
    const gone = world.addTeam(login, { name: "Tiger team" });
    world.addTeamMember(web.id, ada.id);
    world.addTeamMember(ios.id, grace.id);
    world.addTeamMember(ios.id, linus.id);
    world.addTeamMember(gone.id, ada.id);
    await syncMembers(installationId);
    expect((await closure(installationId))[mobile.id]).toEqual([grace.id, linus.id].sort((a, b) => a - b));

    world.editTeam(ios.id, { parentId: web.id });
    world.removeTeamMember(ios.id, linus.id);
    world.deleteTeam(gone.id);
    await syncMembers(installationId);

    expect((await storedTeams(installationId)).map((team) => [team.name, team.parentId])).toEqual([
      ["Web", null],
      ["Mobile", null],
      ["iOS", web.id],
    ]);
    expect(await closure(installationId)).toEqual({
      [web.id]: [ada.id, grace.id].sort((a, b) => a - b),
      [ios.id]: [grace.id],
    });
  }, 60_000);

  it("reads an organization of 200 teams and 2,000 members for a few points, every membership as GitHub counts it", async () => {
    const { installationId, login, people } = await organization(2000);
    const world = github.world;
    // 10 divisions of 19 teams each, a company-wide team of 300, and 9 teams of their own: 200.
    const everyone = world.addTeam(login, { name: "Everyone" });
    for (const person of people.slice(0, 300)) world.addTeamMember(everyone.id, person.id);
    const teams: Team[] = [everyone];
    for (let division = 0; division < 10; division++) {
      const head = world.addTeam(login, { name: `Division ${division}` });
      teams.push(head);
      for (let squad = 0; squad < 18; squad++) {
        teams.push(world.addTeam(login, { name: `Squad ${division}-${squad}`, parentId: head.id }));
      }
    }
    for (let other = 0; other < 9; other++) teams.push(world.addTeam(login, { name: `Guild ${other}` }));
    expect(teams).toHaveLength(200);
    // Everyone in one squad or guild, some in two; division heads have a lead each.
    people.forEach((person, index) => {
      const own = teams[1 + (index % 199)]!;
      world.addTeamMember(own.id, person.id);
      if (index % 7 === 0) world.addTeamMember(teams[1 + ((index * 13) % 199)]!.id, person.id);
    });

    // The teams sync alone, on a client without Probot's pacing of one GraphQL query a second.
    github.stats.reset();
    const result = await syncTeams(await syncContext(installationId), login);
    const spent = github.stats.snapshot();

    expect(result).toEqual({ teams: 200, memberships: 2584, removed: 0, trusted: true });
    // GitHub's own count (Team.members with membership ALL) against the closure the app computes.
    const expected: Record<number, number[]> = {};
    for (const team of world.teamsOf(world.getAccount(login)!.id)) {
      const all = new Set([
        ...team.memberIds,
        ...world.descendantsOf(team.id).flatMap((child) => child.memberIds),
      ]);
      if (all.size > 0) expected[team.id] = [...all].sort((a, b) => a - b);
    }
    expect(await closure(installationId)).toEqual(expected);
    // 2 pages of 100 teams with their first 100 members (1 point each: 1 + 100 connections of 100
    // nodes, GitHub's formula rounds 101 requests / 100 to 1), and Everyone's members 101-300.
    expect({ queries: spent.graphql, points: spent.graphqlPoints }).toEqual({ queries: 4, points: 4 });
    console.info(
      `teams sync of 200 teams and 2,000 members: ${spent.graphql} GraphQL queries, ${spent.graphqlPoints} points`,
    );
  }, 60_000);
});
