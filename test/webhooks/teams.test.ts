import { describe, expect, it } from "@jest/globals";
import { asc, eq, sql } from "drizzle-orm";
import { teamClosure } from "../../src/db/queries/teams.js";
import * as schema from "../../src/db/schema/index.js";
import { buildWebhook, World, type User, type WebhookActions } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";
import { webhookExample } from "../support/webhook-examples.js";

// Teams kept current by GitHub's `team` and `membership` events, signed and posted as GitHub posts
// them (payloads built from the fake GitHub's world, shaped like @octokit/webhooks-examples), and
// what the app then reads: each team's members, sub-teams' included.

const t = useTestApp({ queues: ["processWebhook"] });

function org() {
  const world = new World({ seed: 3 });
  const seeded = world.seedOrg({ login: "initech", repos: 0, prsPerRepo: 0, members: 6 });
  return { world, installationId: seeded.installation.id, people: seeded.members };
}

async function install(installationId: number) {
  await t.database.db.insert(schema.installations).values({
    id: installationId,
    accountId: 1,
    accountLogin: "initech",
    accountType: "Organization",
  });
}

async function send<E extends "team" | "membership" | "organization">(
  world: World,
  event: E,
  action: WebhookActions[E],
  refs: Parameters<typeof buildWebhook>[3],
) {
  const hook = buildWebhook(world, event, action, refs);
  const response = await t.app.deliver(hook.name, hook.payload, { id: hook.id });
  expect(response.status).toBe(202);
  await t.app.drain(["process-webhook"]);
  const [delivery] = await t.database.sql<{ status: string; last_error: string | null }[]>`
    select status, last_error from webhook_deliveries where id = ${hook.id}`;
  expect(delivery).toEqual({ status: "processed", last_error: null });
}

async function teams(installationId: number) {
  return (
    await t.database.db
      .select({ id: schema.teams.id, name: schema.teams.name, parentId: schema.teams.parentId })
      .from(schema.teams)
      .where(eq(schema.teams.installationId, installationId))
      .orderBy(asc(schema.teams.id))
  ).map((team) => [team.name, team.parentId]);
}

/** Team name → logins of its members now, sub-teams included. */
async function membersByTeam(installationId: number): Promise<Record<string, string[]>> {
  const rows = await t.database.db.execute<{ name: string; login: string }>(sql`
    select t.name, m.login
    from ${teamClosure(installationId)} c
    join ${schema.teams} t on t.installation_id = ${installationId} and t.id = c.team_id
    join (select distinct user_id, login from ${schema.teamMembers} where installation_id = ${installationId}) m
      on m.user_id = c.user_id
    order by t.name, m.login`);
  const byTeam: Record<string, string[]> = {};
  for (const row of rows) (byTeam[row.name] ??= []).push(row.login);
  return byTeam;
}

describe("team and membership webhooks", () => {
  it("create teams, add and remove members, re-parent and delete a team, as GitHub did", async () => {
    const { world, installationId, people } = org();
    const [ada, grace, linus, ken] = people as [User, User, User, User];
    await install(installationId);

    const engineering = world.addTeam("initech", { name: "Engineering" });
    await send(world, "team", "created", { teamId: engineering.id });
    const platform = world.addTeam("initech", { name: "Platform", parentId: engineering.id });
    await send(world, "team", "created", { teamId: platform.id });
    const product = world.addTeam("initech", { name: "Product" });
    await send(world, "team", "created", { teamId: product.id });
    for (const [team, user] of [
      [engineering, ada],
      [platform, grace],
      [platform, linus],
      [product, ken],
    ] as const) {
      world.addTeamMember(team.id, user.id);
      await send(world, "membership", "added", { teamId: team.id, userId: user.id });
    }
    expect(await teams(installationId)).toEqual([
      ["Engineering", null],
      ["Platform", engineering.id],
      ["Product", null],
    ]);
    expect(await membersByTeam(installationId)).toEqual({
      Engineering: [ada.login, grace.login, linus.login].sort(),
      Platform: [grace.login, linus.login].sort(),
      Product: [ken.login],
    });

    // Platform moves under Product, renamed: its members go with it.
    world.editTeam(platform.id, { parentId: product.id, name: "Platform Core" });
    await send(world, "team", "edited", {
      teamId: platform.id,
      changes: { name: { from: "Platform" } },
    });
    world.removeTeamMember(platform.id, linus.id);
    await send(world, "membership", "removed", { teamId: platform.id, userId: linus.id });
    expect(await teams(installationId)).toEqual([
      ["Engineering", null],
      ["Platform Core", product.id],
      ["Product", null],
    ]);
    expect(await membersByTeam(installationId)).toEqual({
      Engineering: [ada.login],
      "Platform Core": [grace.login],
      Product: [grace.login, ken.login].sort(),
    });

    // Deleting Product deletes Platform Core under it, as on GitHub.
    const deleted = world.deleteTeam(product.id);
    expect(deleted.map((team) => team.name)).toEqual(["Product", "Platform Core"]);
    await send(world, "team", "deleted", { teamId: product.id });
    expect(await teams(installationId)).toEqual([["Engineering", null]]);
    expect(await membersByTeam(installationId)).toEqual({ Engineering: [ada.login] });
    expect(
      await t.database.sql`select team_id from team_members where team_id in (${product.id}, ${platform.id})`,
    ).toEqual([]);
  });

  it("store a team first heard of through a membership, and take a leaver out of every team", async () => {
    const { world, installationId, people } = org();
    const [ada, grace] = people as [User, User];
    await install(installationId);
    const web = world.addTeam("initech", { name: "Web" });
    const api = world.addTeam("initech", { name: "API", parentId: web.id });
    world.addTeamMember(api.id, ada.id);
    world.addTeamMember(web.id, grace.id);
    // team.created never arrived: the memberships bring the teams, parent included.
    await send(world, "membership", "added", { teamId: api.id, userId: ada.id });
    await send(world, "membership", "added", { teamId: web.id, userId: grace.id });
    world.addTeamMember(web.id, ada.id);
    await send(world, "membership", "added", { teamId: web.id, userId: ada.id });
    expect(await teams(installationId)).toEqual([
      ["Web", null],
      ["API", web.id],
    ]);
    expect(await membersByTeam(installationId)).toEqual({
      API: [ada.login],
      Web: [ada.login, grace.login].sort(),
    });

    // Ada leaves the organization: GitHub says so per team with scope "organization".
    world.removeMember("initech", ada.id);
    await send(world, "membership", "removed", { teamId: api.id, userId: ada.id, scope: "organization" });
    expect(await membersByTeam(installationId)).toEqual({ Web: [grace.login] });

    // Grace leaves it too, and only organization.member_removed says so.
    world.removeMember("initech", grace.id);
    await send(world, "organization", "member_removed", { installationId, userId: grace.id });
    expect(await membersByTeam(installationId)).toEqual({});
  });

  it("bring nothing back for a deleted team, and store nothing for an installation not known", async () => {
    const { world, installationId, people } = org();
    const [ada] = people as [User];
    const gone = world.addTeam("initech", { name: "Gone" });
    world.deleteTeam(gone.id);
    await send(world, "membership", "added", { teamId: gone.id, userId: ada.id });
    await install(installationId);
    await send(world, "membership", "added", { teamId: gone.id, userId: ada.id });
    expect(await t.database.sql`select * from teams`).toEqual([]);
    expect(await t.database.sql`select * from team_members`).toEqual([]);
  });

  it("refuses a membership body posted as a team event, and the reverse, under an action of the event claimed", async () => {
    // A signed membership.removed body as team.deleted would delete the team (its `member` tells).
    const membership = { ...webhookExample("membership", "removed"), action: "deleted" };
    // A signed team.deleted body as membership.removed (it names no member).
    const team = { ...webhookExample("team", "deleted"), action: "removed" };
    for (const [name, payload] of [
      ["team", membership],
      ["membership", team],
    ] as const) {
      const response = await t.app.deliver(name, payload);
      expect(response.status).toBe(400);
    }
    expect(await t.database.sql`select status from webhook_deliveries`).toEqual([
      { status: "ignored" },
      { status: "ignored" },
    ]);
  });
});
