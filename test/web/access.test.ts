import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { eq } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { APP_ID } from "../support/app.js";
import { Browser } from "../support/browser.js";
import { startFakeGitHub, type FakeGitHub, type User } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";
import { signedIn } from "../support/session.js";

// Who may open which page: every installation page and form, for an anonymous visitor, a member
// who is not an admin, the admin of another organization, and the admin. GitHub (the fake) is the
// judge of who administers what; the session's cached answer lasts five minutes, and never
// covers a change.

let github: FakeGitHub;
beforeAll(async () => {
  github = await startFakeGitHub({ seed: 23 });
});
const t = useTestApp(() => ({ env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" }, queues: [] }));
afterAll(async () => {
  await github.close();
});

const STALE = new Date(Date.now() - 10 * 60_000);
let orgs = 0;

interface Org {
  installationId: number;
  repoId: number;
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
  return { installationId: seeded.installation.id, repoId: seeded.repos[0]!.id, admin, member };
}

type Route = { method: "GET" | "POST"; path: (o: Org) => string; form?: Record<string, string> };

/** Every page and form of an installation. */
const routes: Route[] = [
  { method: "GET", path: (o) => `/installations/${o.installationId}/repositories` },
  { method: "GET", path: (o) => `/installations/${o.installationId}/repositories/rows` },
  { method: "GET", path: (o) => `/installations/${o.installationId}/settings` },
  {
    method: "POST",
    path: (o) => `/installations/${o.installationId}/repositories/track`,
    form: { repoIds: "1" },
  },
  {
    method: "POST",
    path: (o) => `/installations/${o.installationId}/repositories/untrack`,
    form: { repoIds: "1" },
  },
  {
    method: "POST",
    path: (o) => `/installations/${o.installationId}/repositories/${o.repoId}/depth`,
    form: { depth: "60d" },
  },
  { method: "POST", path: (o) => `/installations/${o.installationId}/repositories/${o.repoId}/sync` },
  { method: "POST", path: (o) => `/installations/${o.installationId}/settings`, form: { timezone: "UTC" } },
  {
    method: "POST",
    path: (o) => `/installations/${o.installationId}/settings/preview`,
    form: { timezone: "UTC" },
  },
];
const label = (route: Route) => `${route.method} ${route.path({ installationId: 1, repoId: 2 } as Org)}`;

async function visit(browser: Browser, route: Route, o: Org, csrf?: string) {
  const path = route.path(o);
  return route.method === "GET"
    ? browser.get(path)
    : browser.post(path, { ...route.form, ...(csrf ? { _csrf: csrf } : {}) });
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
    expect([200, 303, 400]).toContain(page.status);
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
    expect(await t.app.jobs("delta-sync")).toHaveLength(0);
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
