import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { eq } from "drizzle-orm";
import Fastify, { type FastifyInstance } from "fastify";
import { z } from "zod";
import * as schema from "../../src/db/schema/index.js";
import { upsertMembers } from "../../src/db/queries/members.js";
import { requireRouteContracts, useZodContract } from "../../src/web/contract.js";
import { APP_ID } from "../support/app.js";
import { Browser } from "../support/browser.js";
import { startFakeGitHub, type FakeGitHub, type User } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";
import { signedIn } from "../support/session.js";

// Who may open which page: every page, fragment, download and form of an installation (the last
// test holds the table to the routes the app registers), for an anonymous visitor, a member who
// is not an admin, the admin of another organization, and the admin. GitHub (the fake) is the
// judge of who administers what; the session's cached answer lasts five minutes, and never
// covers a change.

let github: FakeGitHub;
beforeAll(async () => {
  github = await startFakeGitHub({ seed: 23 });
});
// Every test seeds organizations of its own (new ids each time) and looks only at them: the tables
// are emptied once per file, not before each of the 114 tests.
const t = useTestApp(() => ({ env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" }, queues: [] }), {
  emptyEachTest: false,
});
afterAll(async () => {
  await github.close();
});

const STALE = new Date(Date.now() - 10 * 60_000);
let orgs = 0;

/** The email of the one commit identity each organization has: the member routes need one. */
const IDENTITY = "email:contractor@agency.example";

interface Org {
  installationId: number;
  repoId: number;
  /** The organization's one team, with its admin in it. */
  teamId: number;
  admin: User;
  member: User;
}

async function org(): Promise<Org> {
  const login = `access-${++orgs}`;
  const seeded = github.world.seedOrg({ login, repos: 1, prsPerRepo: 3, members: 2, appId: Number(APP_ID) });
  const [admin, member] = seeded.members as [User, User];
  github.oauth.setRole(login, admin.login, "admin");
  github.oauth.setRole(login, member.login, "member");
  await t.database.db.insert(schema.installations).values({
    id: seeded.installation.id,
    accountId: seeded.org.id,
    accountLogin: login,
    accountType: "Organization",
  });
  await t.database.db.insert(schema.repositories).values({
    id: seeded.repos[0]!.id,
    installationId: seeded.installation.id,
    nodeId: seeded.repos[0]!.nodeId,
    fullName: `${login}/${seeded.repos[0]!.name}`,
    tracked: true,
    syncStatus: "complete",
  });
  await upsertMembers(t.database.db, seeded.installation.id, [
    { userId: admin.id, login: admin.login },
    { userId: member.id, login: member.login },
  ]);
  await t.database.db.insert(schema.commits).values({
    installationId: seeded.installation.id,
    pullRequestId: 1,
    repoId: seeded.repos[0]!.id,
    sha: `access-${orgs}`,
    message: "change",
    authorEmail: IDENTITY.slice("email:".length),
  });
  const teamId = 7000 + orgs;
  await t.database.db.insert(schema.teams).values({
    installationId: seeded.installation.id,
    id: teamId,
    slug: `team-${orgs}`,
    name: `Team ${orgs}`,
  });
  await t.database.db
    .insert(schema.teamMembers)
    .values({ installationId: seeded.installation.id, teamId, userId: admin.id, login: admin.login });
  return { installationId: seeded.installation.id, repoId: seeded.repos[0]!.id, teamId, admin, member };
}

/**
 * A route as Fastify registers it (`:installationId`, `:repoId`, `:teamId`, `:userId` and
 * `:memberUserId` in the path, query and form stand for the organization's; `:userId` is its
 * admin), and what the admin gets from it: the page, the redirect after a change, or the form again
 * with what was refused.
 */
type Route = {
  method: "GET" | "POST";
  path: string;
  query?: string;
  form?: Record<string, string>;
  served: 200 | 303 | 400;
};

const base = "/installations/:installationId";
/** Every page, fragment, download and form of an installation (the last test checks "every"). */
const routes: Route[] = [
  { method: "GET", path: `${base}/repositories`, served: 200 },
  { method: "GET", path: `${base}/repositories/rows`, served: 200 },
  { method: "POST", path: `${base}/repositories/track`, form: { repoIds: "1" }, served: 303 },
  { method: "POST", path: `${base}/repositories/untrack`, form: { repoIds: "1" }, served: 303 },
  { method: "POST", path: `${base}/repositories/:repoId/depth`, form: { depth: "60d" }, served: 200 },
  { method: "POST", path: `${base}/repositories/:repoId/sync`, served: 303 },
  { method: "GET", path: `${base}/settings`, served: 200 },
  { method: "POST", path: `${base}/settings`, form: { timezone: "UTC" }, served: 400 },
  { method: "POST", path: `${base}/settings/preview`, form: { timezone: "UTC" }, served: 400 },
  { method: "POST", path: `${base}/settings/api-tokens`, form: { name: "Grafana" }, served: 200 },
  // No such token to revoke (:tokenId stands for 1): the settings page again, saying so.
  { method: "POST", path: `${base}/settings/api-tokens/:tokenId/revoke`, served: 303 },
  { method: "GET", path: `${base}/members`, served: 200 },
  { method: "GET", path: `${base}/members/match`, query: `identity=${IDENTITY}`, served: 200 },
  {
    method: "POST",
    path: `${base}/members/matches`,
    form: { identity: IDENTITY, memberUserId: ":memberUserId" },
    served: 303,
  },
  { method: "POST", path: `${base}/members/matches/delete`, form: { identity: IDENTITY }, served: 303 },
  { method: "GET", path: `${base}/webhooks`, served: 200 },
  { method: "GET", path: `${base}/webhooks/live`, served: 200 },
  { method: "GET", path: `${base}/metrics`, served: 200 },
  { method: "GET", path: `${base}/metrics.csv`, served: 200 },
  { method: "GET", path: `${base}/metrics/live`, served: 200 },
  { method: "GET", path: `${base}/metrics/repositories`, query: "repoName=acme", served: 200 },
  { method: "GET", path: `${base}/teams`, served: 200 },
  { method: "GET", path: `${base}/teams/:teamId`, served: 200 },
  { method: "GET", path: `${base}/people/:userId`, served: 200 },
];
const label = (route: Route) => `${route.method} ${route.path}${route.query ? `?${route.query}` : ""}`;

/** A route's placeholders filled in with an organization's ids. */
function fill(text: string, o: Org): string {
  return text
    .replaceAll(":installationId", String(o.installationId))
    .replaceAll(":repoId", String(o.repoId))
    .replaceAll(":teamId", String(o.teamId))
    .replaceAll(":userId", String(o.admin.id))
    .replaceAll(":memberUserId", String(o.member.id))
    .replaceAll(":tokenId", "1");
}

async function visit(browser: Browser, route: Route, o: Org, csrf?: string) {
  const path = fill(route.path, o);
  if (route.method === "GET") {
    return browser.get(route.query ? `${path}?${new URLSearchParams(fill(route.query, o))}` : path);
  }
  const form = Object.fromEntries(
    Object.entries(route.form ?? {}).map(([key, value]) => [key, fill(value, o)]),
  );
  return browser.post(path, { ...form, ...(csrf ? { _csrf: csrf } : {}) });
}

describe.each(routes.map((route) => [label(route), route] as const))("%s", (_label, route) => {
  it("sends an anonymous visitor to sign in", async () => {
    const o = await org();
    const page = await visit(new Browser(t.app.url), route, o);
    expect(page.status).toBe(303);
    expect(page.location).toMatch(/^\/login/);
  });

  it("answers 404 to a member who is not an admin (checked with GitHub)", async () => {
    const o = await org();
    const session = await signedIn(t.database, t.app.server, {
      userId: o.member.id,
      login: o.member.login,
      installationIds: [],
      authorizedAt: STALE,
    });
    const page = await visit(new Browser(t.app.url, session.cookie), route, o, session.csrfToken);
    expect(page.status).toBe(404);
  });

  it("answers 404 to the admin of another organization", async () => {
    const [mine, theirs] = [await org(), await org()];
    const session = await signedIn(t.database, t.app.server, {
      userId: theirs.admin.id,
      login: theirs.admin.login,
      installationIds: [theirs.installationId],
    });
    const page = await visit(new Browser(t.app.url, session.cookie), route, mine, session.csrfToken);
    expect(page.status).toBe(404);
    expect(page.body).not.toContain(`access-${orgs - 1}/`);
  });

  it("serves the admin", async () => {
    const o = await org();
    const session = await signedIn(t.database, t.app.server, {
      userId: o.admin.id,
      login: o.admin.login,
      installationIds: [o.installationId],
    });
    const page = await visit(new Browser(t.app.url, session.cookie), route, o, session.csrfToken);
    expect(page.status).toBe(route.served);
    if (page.status === 303) expect(page.location).not.toMatch(/^\/login/);
  });

  if (route.method === "POST") {
    it("refuses the admin's form without the session's CSRF token", async () => {
      const o = await org();
      const session = await signedIn(t.database, t.app.server, {
        userId: o.admin.id,
        login: o.admin.login,
        installationIds: [o.installationId],
      });
      const other = await signedIn(t.database, t.app.server, { userId: 1, installationIds: [] });
      for (const csrf of [undefined, "x".repeat(43), other.csrfToken]) {
        const page = await visit(new Browser(t.app.url, session.cookie), route, o, csrf);
        expect(page.status).toBe(403);
      }
    });
  }
});

describe("access stays true", () => {
  it("a demoted admin loses access once the cached answer is five minutes old", async () => {
    const o = await org();
    const session = await signedIn(t.database, t.app.server, {
      userId: o.admin.id,
      login: o.admin.login,
      installationIds: [o.installationId],
      authorizedAt: STALE,
    });
    github.world.setOrgRole(github.world.getAccount(`access-${orgs}`)!.id, o.admin.id, "member");
    const page = await new Browser(t.app.url, session.cookie).get(
      `/installations/${o.installationId}/repositories`,
    );
    expect(page.status).toBe(404);
    const [stored] = await t.database.db
      .select()
      .from(schema.sessions)
      .where(eq(schema.sessions.userId, o.admin.id));
    expect(stored!.installationIds).toEqual([]);
  });

  it("checks with GitHub before every change, however fresh the cached answer", async () => {
    const o = await org();
    const session = await signedIn(t.database, t.app.server, {
      userId: o.admin.id,
      login: o.admin.login,
      installationIds: [o.installationId],
    });
    github.world.setOrgRole(github.world.getAccount(`access-${orgs}`)!.id, o.admin.id, "member");
    const browser = new Browser(t.app.url, session.cookie);
    // The page still shows for the five minutes the answer is cached...
    expect((await browser.get(`/installations/${o.installationId}/settings`)).status).toBe(200);
    // ...but a change asks GitHub first.
    const change = await browser.post(`/installations/${o.installationId}/repositories/${o.repoId}/sync`, {
      _csrf: session.csrfToken,
    });
    expect(change.status).toBe(404);
    // No job of any queue for this installation (a repository never synced would get a backfill,
    // not a delta sync); earlier tests' admins queued jobs for their own organizations.
    expect(
      await t.database
        .sql`select name from pgboss.job where data->>'installationId' = ${String(o.installationId)}`,
    ).toEqual([]);
  });

  it("shows an installation made after sign-in without signing out", async () => {
    const o = await org();
    const session = await signedIn(t.database, t.app.server, {
      userId: o.admin.id,
      login: o.admin.login,
      installationIds: [],
      authorizedAt: STALE,
    });
    const home = await new Browser(t.app.url, session.cookie).get("/");
    expect(home.body).toContain(`href="/installations/${o.installationId}/repositories"`);
  });
});

const MEMBERSHIP = "GET /orgs/:org/memberships/:username";
/** How many organization memberships the app asked the fake GitHub for while `act` ran. */
async function membershipLookups(act: () => Promise<unknown>): Promise<number> {
  github.stats.reset();
  await act();
  return github.stats.snapshot().byRoute[MEMBERSHIP] ?? 0;
}

describe("what access costs GitHub", () => {
  it("refuses, without asking GitHub, every page and form of an installation the session never had", async () => {
    const [mine, theirs] = [await org(), await org()];
    for (let i = 0; i < 3; i++) await org();
    // Signed in long ago: a stale answer would have been checked with GitHub for every installation.
    const session = await signedIn(t.database, t.app.server, {
      userId: mine.admin.id,
      login: mine.admin.login,
      installationIds: [mine.installationId],
      authorizedAt: STALE,
    });
    const browser = new Browser(t.app.url, session.cookie);
    const lookups = await membershipLookups(async () => {
      for (const route of routes) {
        expect((await visit(browser, route, theirs, session.csrfToken)).status).toBe(404);
      }
    });
    expect(lookups).toBe(0);
  });

  it("confirms only the installation a change names, once per change, however many there are", async () => {
    const o = await org();
    for (let i = 0; i < 4; i++) await org();
    const session = await signedIn(t.database, t.app.server, {
      userId: o.admin.id,
      login: o.admin.login,
      installationIds: [o.installationId],
    });
    const browser = new Browser(t.app.url, session.cookie);
    const sync = `/installations/${o.installationId}/repositories/${o.repoId}/sync`;
    const lookups = await membershipLookups(async () => {
      for (let i = 0; i < 3; i++) {
        expect((await browser.post(sync, { _csrf: session.csrfToken })).status).toBe(303);
      }
    });
    expect(lookups).toBe(3);
  });

  it("confirms a stale installation alone, then trusts that answer for five minutes", async () => {
    const o = await org();
    for (let i = 0; i < 4; i++) await org();
    const session = await signedIn(t.database, t.app.server, {
      userId: o.admin.id,
      login: o.admin.login,
      installationIds: [o.installationId],
      authorizedAt: STALE,
    });
    const browser = new Browser(t.app.url, session.cookie);
    const lookups = await membershipLookups(async () => {
      for (const tab of ["repositories", "settings", "members"]) {
        expect((await browser.get(`/installations/${o.installationId}/${tab}`)).status).toBe(200);
      }
    });
    expect(lookups).toBe(1);
  });
});

describe("the route contract", () => {
  it("refuses to register a route without a declared input schema, or without declared access", async () => {
    const app = Fastify();
    useZodContract(app);
    requireRouteContracts(app);
    const handler = async () => "ok";
    expect(() => app.get("/no-schema", { config: { access: "public" } }, handler)).toThrow(
      /declares no input schema/,
    );
    expect(() => app.get("/no-access", { schema: { querystring: z.object({}) } }, handler)).toThrow(
      /declares no access/,
    );
    expect(() =>
      app.get("/both", { schema: { querystring: z.object({}) }, config: { access: "public" } }, handler),
    ).not.toThrow();
    await app.close();
  });
});

/**
 * The routes the app registered, as "METHOD /path". Fastify lists them only as printRoutes' tree,
 * in which a line's text continues its parent's: "/match (GET)" above "es (POST)" is /matches.
 */
function registeredRoutes(server: FastifyInstance): string[] {
  const found: string[] = [];
  const paths: string[] = [];
  for (const line of server.printRoutes({ commonPrefix: false }).split("\n")) {
    const node = /^([\s│├└─]*)(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!node) continue;
    // Four characters of tree drawing per level.
    const depth = node[1]!.length / 4;
    paths.length = depth;
    paths[depth] = (paths[depth - 1] ?? "") + node[2]!;
    for (const method of node[3]?.split(", ") ?? []) {
      // Fastify answers HEAD for every GET by itself.
      if (method !== "HEAD") found.push(`${method} ${paths[depth]}`);
    }
  }
  return found;
}

describe("the table above", () => {
  it("holds every route of an installation the app registered, and no other", () => {
    const registered = registeredRoutes(t.app.server);
    expect(registered).toContain("GET /login/callback");
    const installationRoutes = registered.filter((route) => route.split(" ")[1]!.startsWith(`${base}/`));
    expect(installationRoutes.sort()).toEqual(routes.map((route) => `${route.method} ${route.path}`).sort());
  });
});
