import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { eq } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { upsertMembers } from "../../src/db/queries/members.js";
import { APP_ID } from "../support/app.js";
import { Browser, type Page } from "../support/browser.js";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";
import { signedIn, type TestSession } from "../support/session.js";

// The members page against the fake GitHub, which answers the admin checks made before every change.

let github: FakeGitHub;
beforeAll(async () => {
  github = await startFakeGitHub({ seed: 31 });
});
const t = useTestApp(() => ({ env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" }, queues: [] }));
afterAll(async () => {
  await github.close();
});

const XSS = `<script>alert("x")</script>`;

interface Org {
  installationId: number;
  admin: { id: number; login: string };
  plain: { id: number; login: string };
  /** GitHub ids of its members, as stored. */
  memberIds: number[];
}

let orgs = 0;

/** An organization with the App installed, its admin, a plain member, and stored members. */
async function seedOrg(prefix: string): Promise<Org> {
  const login = `${prefix}${++orgs}`;
  const seeded = github.world.seedOrg({ login, repos: 1, prsPerRepo: 1, members: 3, appId: Number(APP_ID) });
  const [admin, plain] = seeded.members;
  github.oauth.setRole(login, admin!.login, "admin");
  await t.database.db.insert(schema.installations).values({
    id: seeded.installation.id,
    accountId: seeded.org.id,
    accountLogin: login,
    accountType: "Organization",
  });
  return {
    installationId: seeded.installation.id,
    admin: admin!,
    plain: plain!,
    memberIds: seeded.members.map((member) => member.id),
  };
}

interface World {
  acme: Org;
  globex: Org;
  /** acme's stored members: ada (linked commits), bob (email commits), cyd (nothing), old (left). */
  ada: number;
  bob: number;
  cyd: number;
  old: number;
}

let world: World;
let nextSha = 0;

function commit(installationId: number, patch: Partial<typeof schema.commits.$inferInsert>) {
  return {
    installationId,
    pullRequestId: 1,
    repoId: 1,
    sha: `sha${++nextSha}`,
    message: "change",
    ...patch,
  };
}

beforeEach(async () => {
  const acme = await seedOrg("acme");
  const globex = await seedOrg("globex");
  const [ada, bob, cyd] = acme.memberIds as [number, number, number];
  const old = 777_000 + orgs;
  await upsertMembers(t.database.db, acme.installationId, [
    { userId: ada, login: "ada", name: "Ada Lovelace", email: "ada@acme.example" },
    { userId: bob, login: "bob", name: XSS, email: "bob@acme.example" },
    { userId: cyd, login: "cyd", name: null, email: null },
    { userId: old, login: "old-timer", name: "Old", email: "old@acme.example" },
  ]);
  await t.database.db
    .update(schema.members)
    .set({ active: false, leftAt: new Date("2026-01-05T00:00:00Z") })
    .where(eq(schema.members.userId, old));
  await upsertMembers(t.database.db, globex.installationId, [
    { userId: globex.memberIds[0]!, login: "gus", email: "gus@globex.example" },
  ]);
  await t.database.db.insert(schema.commits).values([
    commit(acme.installationId, { authorId: ada, authorLogin: "ada", authorEmail: "ada@home.example" }),
    commit(acme.installationId, { authorId: ada, authorLogin: "ada", authorEmail: "ada@home.example" }),
    commit(acme.installationId, { authorEmail: "Bob@acme.example", authorName: "Bob" }),
    ...[1, 2, 3].map(() =>
      commit(acme.installationId, {
        authorEmail: "contractor@agency.example",
        authorName: "Casey Contractor",
      }),
    ),
    commit(acme.installationId, { authorEmail: `"><img src=x>@evil.example`, authorName: XSS }),
    // Another organization's contributor: never an identity of acme.
    commit(globex.installationId, { authorEmail: "spy@globex.example", authorName: "Spy" }),
  ]);
  world = { acme, globex, ada, bob, cyd, old };
});

const membersPath = (org: Org) => `/installations/${org.installationId}/members`;

async function browserFor(
  org: Org,
  user: { id: number; login: string },
  installationIds = [org.installationId],
): Promise<{ browser: Browser; session: TestSession }> {
  const session = await signedIn(t.database, t.app.server, {
    userId: user.id,
    login: user.login,
    installationIds,
  });
  return { browser: new Browser(t.app.url, session.cookie), session };
}

const storedMatches = () => t.database.db.select().from(schema.identityMatches);

/** Follows the redirect of a form post and returns the page it lands on. */
async function follow(browser: Browser, answer: Page): Promise<Page> {
  expect(answer.status).toBe(303);
  return browser.get(answer.location!);
}

/** Posts acme's unmatch form for `identity` and returns the page it lands on. */
async function unmatchOnAcme(browser: Browser, session: TestSession, identity: string): Promise<Page> {
  return follow(
    browser,
    await browser.post(`${membersPath(world.acme)}/matches/delete`, { _csrf: session.csrfToken, identity }),
  );
}

describe("members page", () => {
  it("shows members with their match status, unmatched identities with their commits, most first", async () => {
    const { browser } = await browserFor(world.acme, world.acme.admin);
    const page = await browser.get(membersPath(world.acme));
    expect(page.status).toBe(200);
    const unmatched = section(page.body, "unmatched-heading");
    expect(unmatched).toContain("Casey Contractor");
    expect(unmatched).toContain("contractor@agency.example");
    expect(unmatched.indexOf("Casey Contractor")).toBeLessThan(unmatched.indexOf("evil.example"));
    expect(unmatched).not.toContain("Spy");
    const members = section(page.body, "members-heading");
    expect(rowOf(members, "@ada")).toContain("Matched");
    expect(rowOf(members, "@ada")).toContain("linked GitHub account");
    expect(rowOf(members, "@bob")).toContain("same email");
    expect(rowOf(members, "@cyd")).toContain("Unmatched");
    expect(rowOf(members, "@old-timer")).toContain("Inactive");
    expect(page.body).toContain("4 members · 2 matched · 1 unmatched · 1 inactive");
  });

  it("lists bot commit identities apart from the unmatched people", async () => {
    await t.database.db.insert(schema.commits).values([
      ...[1, 2].map(() =>
        commit(world.acme.installationId, {
          authorEmail: "49699333+dependabot[bot]@users.noreply.github.com",
          authorName: "dependabot[bot]",
        }),
      ),
      commit(world.acme.installationId, {
        authorEmail: "41898282+github-actions[bot]@users.noreply.github.com",
        authorName: "github-actions[bot]",
      }),
      commit(world.acme.installationId, {
        authorEmail: "renovate@whitesourcesoftware.com",
        authorName: "renovate[bot]",
      }),
    ]);
    const { browser } = await browserFor(world.acme, world.acme.admin);
    const page = await browser.get(membersPath(world.acme));
    const people = section(page.body, "unmatched-heading");
    const bots = section(page.body, "bots-heading");
    for (const bot of ["dependabot[bot]", "github-actions[bot]", "renovate[bot]"]) {
      expect(bots).toContain(bot);
      expect(people).not.toContain(bot);
    }
    expect(bots).toContain("3 bots with 4 commits.");
    expect(people).toContain("Casey Contractor");
    expect(people).toMatch(/2 identities with 4 commits belong to no member/);
  });

  it("filters the members by status", async () => {
    const { browser } = await browserFor(world.acme, world.acme.admin);
    const page = await browser.get(`${membersPath(world.acme)}?filter=inactive`);
    const members = section(page.body, "members-heading");
    expect(members).toContain("@old-timer");
    expect(members).not.toContain("@ada");
    // A filter or page that is not one is a 400 that says which, before the page is built.
    const refused = await browser.get(`${membersPath(world.acme)}?filter=<b>&page=-3`);
    expect(refused.status).toBe(400);
    expect(refused.body).toContain("filter:");
    expect(refused.body).not.toContain("<b>");
    expect(refused.body).not.toContain("@ada");
  });

  it("escapes markup in member names, commit names and emails", async () => {
    const { browser } = await browserFor(world.acme, world.acme.admin);
    const page = await browser.get(membersPath(world.acme));
    expect(page.body).not.toContain(XSS);
    expect(page.body).not.toContain(`<img src=x>`);
    expect(page.body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(page.body).toContain("&quot;&gt;&lt;img src=x&gt;@evil.example");
  });

  it("answers the match page of an identity that is not this organization's with a message", async () => {
    const { browser } = await browserFor(world.acme, world.acme.admin);
    for (const identity of ["email:spy@globex.example", "nonsense", "x".repeat(2000)]) {
      const page = await browser.get(
        `${membersPath(world.acme)}/match?identity=${encodeURIComponent(identity)}`,
      );
      expect(page.status).toBe(404);
      expect(page.body).toContain("PR Pulse has no commit by this identity in this organization.");
      expect(page.body).not.toContain("Spy");
    }
  });

  it("says a personal account has no members list", async () => {
    const owner = github.world.addUser({ login: `solo${orgs}` });
    await t.database.db.insert(schema.installations).values({
      id: 880_000 + orgs,
      accountId: owner.id,
      accountLogin: owner.login,
      accountType: "User",
    });
    const session = await signedIn(t.database, t.app.server, {
      userId: owner.id,
      login: owner.login,
      installationIds: [880_000 + orgs],
    });
    const browser = new Browser(t.app.url, session.cookie);
    const page = await browser.get(`/installations/${880_000 + orgs}/members`);
    expect(page.status).toBe(200);
    expect(page.body).toContain("A personal account has no members list");
    expect(page.body).not.toContain("Unmatched commit identities");
    const answer = await browser.post(`/installations/${880_000 + orgs}/members/matches`, {
      _csrf: session.csrfToken,
      identity: "email:someone@example.com",
      memberUserId: String(owner.id),
    });
    expect((await follow(browser, answer)).body).toContain(
      "A personal account has no members to match commits to.",
    );
    expect(await storedMatches()).toEqual([]);
  });
});

describe("manual matches", () => {
  it("matches an identity to a member, shows who did it, and lists its commits under the member", async () => {
    const { browser, session } = await browserFor(world.acme, world.acme.admin);
    const members = await browser.get(membersPath(world.acme));
    // The match page the row links to, then its form.
    const link = /href="([^"]*\/members\/match\?identity=email%3Acontractor[^"]*)"/.exec(members.body)![1]!;
    const form = await browser.get(link.replaceAll("&amp;", "&"));
    expect(form.status).toBe(200);
    expect(form.body).toContain("Casey Contractor");
    expect(form.body).toContain("3 commits");
    const answer = await browser.post(`${membersPath(world.acme)}/matches`, {
      _csrf: session.csrfToken,
      identity: "email:contractor@agency.example",
      memberUserId: String(world.cyd),
    });
    const page = await follow(browser, answer);
    expect(page.body).toContain("Casey Contractor is now matched to @cyd");
    expect(section(page.body, "unmatched-heading")).not.toContain("Casey Contractor");
    expect(rowOf(section(page.body, "members-heading"), "@cyd")).toContain("matched by hand");
    expect(rowOf(section(page.body, "members-heading"), "@cyd")).toContain("Matched");
    expect(section(page.body, "manual-heading")).toContain(`@${world.acme.admin.login}`);
    expect(await storedMatches()).toEqual([
      expect.objectContaining({
        installationId: world.acme.installationId,
        identity: "email:contractor@agency.example",
        memberUserId: world.cyd,
        matchedByUserId: world.acme.admin.id,
      }),
    ]);
  });

  it("re-matches an automatically matched identity to another member", async () => {
    const { browser, session } = await browserFor(world.acme, world.acme.admin);
    const page = await follow(
      browser,
      await browser.post(`${membersPath(world.acme)}/matches`, {
        _csrf: session.csrfToken,
        identity: `id:${world.ada}`,
        memberUserId: String(world.old),
      }),
    );
    const members = section(page.body, "members-heading");
    expect(rowOf(members, "@old-timer")).toContain("@ada");
    expect(rowOf(members, "@ada")).toContain("No commits matched");
  });

  it("removes a manual match, and the automatic rule applies again", async () => {
    const { browser, session } = await browserFor(world.acme, world.acme.admin);
    await t.database.db.insert(schema.identityMatches).values({
      installationId: world.acme.installationId,
      identity: "email:bob@acme.example",
      memberUserId: world.cyd,
      matchedByUserId: 1,
    });
    const page = await unmatchOnAcme(browser, session, "email:bob@acme.example");
    expect(page.body).toContain("The manual match of Bob is removed");
    expect(await storedMatches()).toEqual([]);
    expect(rowOf(section(page.body, "members-heading"), "@bob")).toContain("same email");
  });

  it("unmatches an automatically matched identity with a match to nobody, and undoes it", async () => {
    const { browser, session } = await browserFor(world.acme, world.acme.admin);
    const unmatch = () =>
      browser.post(`${membersPath(world.acme)}/matches/delete`, {
        _csrf: session.csrfToken,
        identity: `id:${world.ada}`,
        returnTo: `${membersPath(world.acme)}?filter=matched`,
      });
    const answer = await unmatch();
    expect(answer.location).toBe(`${membersPath(world.acme)}?filter=matched`);
    const page = await browser.get(membersPath(world.acme));
    expect(page.body).toContain("@ada is no longer matched to a member");
    expect(await storedMatches()).toEqual([
      expect.objectContaining({ identity: `id:${world.ada}`, memberUserId: null }),
    ]);
    expect(section(page.body, "unmatched-heading")).toContain("Not @ada, by hand");
    expect(rowOf(section(page.body, "members-heading"), "@ada")).toContain("Unmatched");
    // The same form again removes the decision: ada's commits are hers again.
    await unmatch();
    expect(await storedMatches()).toEqual([]);
  });

  it("refuses to unmatch what is not an identity of this organization, and saves nothing", async () => {
    const { browser, session } = await browserFor(world.acme, world.acme.admin);
    for (const identity of ["email:spy@globex.example", "email:nobody@acme.example", "garbage", ""]) {
      const page = await unmatchOnAcme(browser, session, identity);
      expect(page.status).toBe(200);
      expect(page.body).toMatch(
        /PR Pulse has no commit by that identity|Choose a commit identity to unmatch/,
      );
    }
    const unmatched = await unmatchOnAcme(browser, session, "email:contractor@agency.example");
    expect(unmatched.body).toContain("Casey Contractor is not matched to any member");
    expect(await storedMatches()).toEqual([]);
  });
});

describe("invalid match forms", () => {
  type Case = {
    form: Record<string, string | string[]>;
    field: "identity" | "memberUserId";
    message: string;
  };
  const cases: [string, (w: World) => Case][] = [
    [
      "an identity with no commit here",
      (w) => ({
        form: { identity: "email:nobody@acme.example", memberUserId: String(w.cyd) },
        field: "identity",
        message: "PR Pulse has no commit by this identity in this organization.",
      }),
    ],
    [
      "another organization's identity",
      (w) => ({
        form: { identity: "email:spy@globex.example", memberUserId: String(w.cyd) },
        field: "identity",
        message: "PR Pulse has no commit by this identity in this organization.",
      }),
    ],
    [
      "an identity that is not one",
      (w) => ({
        form: { identity: "login:ada", memberUserId: String(w.cyd) },
        field: "identity",
        message: "This is not a commit identity.",
      }),
    ],
    [
      "a missing identity",
      (w) => ({
        form: { memberUserId: String(w.cyd) },
        field: "identity",
        message: "Choose a commit identity.",
      }),
    ],
    [
      "an identity with a NUL",
      (w) => ({
        form: { identity: "email:a\u0000b@acme.example", memberUserId: String(w.cyd) },
        field: "identity",
        message: "That value holds invalid characters.",
      }),
    ],
    [
      "an identity given twice",
      (w) => ({
        form: { identity: ["email:contractor@agency.example", `id:${w.ada}`], memberUserId: String(w.cyd) },
        field: "identity",
        message: "Choose a commit identity.",
      }),
    ],
    [
      "another organization's member",
      (w) => ({
        form: { identity: "email:contractor@agency.example", memberUserId: String(w.globex.memberIds[0]) },
        field: "memberUserId",
        message: "Choose one of the organization's members.",
      }),
    ],
    [
      "a member id that is not a number",
      () => ({
        form: { identity: "email:contractor@agency.example", memberUserId: "ada" },
        field: "memberUserId",
        message: "Choose one of the organization's members.",
      }),
    ],
    [
      "a negative member id",
      () => ({
        form: { identity: "email:contractor@agency.example", memberUserId: "-5" },
        field: "memberUserId",
        message: "Choose one of the organization's members.",
      }),
    ],
    [
      "a member id beyond any integer",
      () => ({
        form: { identity: "email:contractor@agency.example", memberUserId: "99999999999999999999999" },
        field: "memberUserId",
        message: "Choose one of the organization's members.",
      }),
    ],
    [
      "a missing member",
      () => ({
        form: { identity: "email:contractor@agency.example" },
        field: "memberUserId",
        message: "Choose a member.",
      }),
    ],
  ];

  it.each(cases)(
    "refuses %s with a message beside the field, keeps the values, saves nothing",
    async (_name, make) => {
      const { form, field, message } = make(world);
      const { browser, session } = await browserFor(world.acme, world.acme.admin);
      const page = await browser.post(`${membersPath(world.acme)}/matches`, {
        _csrf: session.csrfToken,
        ...form,
      });
      expect(page.status).toBe(400);
      const errorId = field === "identity" ? "identity-error" : "member-error";
      expect(page.body).toContain(`id="${errorId}" role="alert">${escape(message)}</p>`);
      if (typeof form.memberUserId === "string" && form.memberUserId === String(world.cyd)) {
        // The member chosen stays chosen.
        expect(page.body).toContain(`<option value="${world.cyd}" selected>`);
      }
      if (form.identity === "email:contractor@agency.example")
        expect(page.body).toContain("Casey Contractor");
      expect(await storedMatches()).toEqual([]);
    },
  );
});

describe("access", () => {
  const post = (browser: Browser, org: Org, csrf: string) =>
    browser.post(`${membersPath(org)}/matches`, {
      _csrf: csrf,
      identity: "email:contractor@agency.example",
      memberUserId: String(world.cyd),
    });

  it("sends an anonymous visitor to sign in, and changes nothing", async () => {
    const browser = new Browser(t.app.url);
    const page = await browser.get(membersPath(world.acme));
    expect(page.status).toBe(303);
    expect(page.location).toBe(`/login?next=${encodeURIComponent(membersPath(world.acme))}`);
    expect((await post(browser, world.acme, "x")).location).toBe("/login");
    expect((await browser.get(`${membersPath(world.acme)}/match?identity=id:1`)).status).toBe(303);
    expect(await storedMatches()).toEqual([]);
  });

  it("shows another organization's admin nothing and refuses their forms", async () => {
    const { browser, session } = await browserFor(world.globex, world.globex.admin);
    const page = await browser.get(membersPath(world.acme));
    expect(page.status).toBe(404);
    expect(page.body).not.toContain("Casey Contractor");
    expect((await post(browser, world.acme, session.csrfToken)).status).toBe(404);
    expect(
      (
        await browser.post(`${membersPath(world.acme)}/matches/delete`, {
          _csrf: session.csrfToken,
          identity: `id:${world.ada}`,
        })
      ).status,
    ).toBe(404);
    expect(await storedMatches()).toEqual([]);
  });

  it("refuses a member who is not an admin, even with a session that still names the installation", async () => {
    const { browser, session } = await browserFor(world.acme, world.acme.plain, []);
    expect((await browser.get(membersPath(world.acme))).status).toBe(404);
    // A session from when they were an admin: GitHub is asked again before any change.
    const demoted = await browserFor(world.acme, world.acme.plain);
    expect((await post(demoted.browser, world.acme, demoted.session.csrfToken)).status).toBe(404);
    expect((await post(browser, world.acme, session.csrfToken)).status).toBe(404);
    expect(await storedMatches()).toEqual([]);
  });

  it("refuses a form without the CSRF token, or with another session's", async () => {
    const { browser } = await browserFor(world.acme, world.acme.admin);
    const other = await browserFor(world.acme, world.acme.admin);
    for (const csrf of [undefined, "", other.session.csrfToken]) {
      const form: Record<string, string> = {
        identity: "email:contractor@agency.example",
        memberUserId: String(world.cyd),
      };
      if (csrf !== undefined) form._csrf = csrf;
      const page = await browser.post(`${membersPath(world.acme)}/matches`, form);
      expect(page.status).toBe(403);
      const unmatch = await browser.post(`${membersPath(world.acme)}/matches/delete`, {
        identity: `id:${world.ada}`,
        ...(csrf !== undefined ? { _csrf: csrf } : {}),
      });
      expect(unmatch.status).toBe(403);
    }
    expect(await storedMatches()).toEqual([]);
  });

  it("lets the admin in", async () => {
    const { browser } = await browserFor(world.acme, world.acme.admin);
    expect((await browser.get(membersPath(world.acme))).status).toBe(200);
  });
});

function escape(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** The HTML of the page's section labelled by this heading id. */
function section(body: string, headingId: string): string {
  const start = body.indexOf(`aria-labelledby="${headingId}"`);
  expect(start).toBeGreaterThan(-1);
  const end = body.indexOf("</section>", start);
  return body.slice(start, end);
}

/** The table row that names this text. */
function rowOf(html: string, text: string): string {
  const at = html.indexOf(text);
  expect(at).toBeGreaterThan(-1);
  return html.slice(html.lastIndexOf("<tr", at), html.indexOf("</tr>", at));
}
