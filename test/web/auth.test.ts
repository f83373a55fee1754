import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import type { FastifyInstance } from "fastify";
import nock from "nock";
import pino from "pino";
import { eq } from "drizzle-orm";
import { installations, repositories, sessions } from "../../src/db/schema/index.js";
import { startRuntime } from "../../src/runtime.js";
import { SESSION_COOKIE } from "../../src/web/session.js";
import { testConfig } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { cookieHeader, setCookies, signedIn, type SetCookie } from "../support/session.js";

const GITHUB = "https://github.com";
const API = "https://api.github.com";
const USER_TOKEN = "ghu_user_token_that_must_never_leak";
const CLIENT_SECRET = "oauth-client-secret";
const OAUTH_ENV = {
  GITHUB_CLIENT_ID: "Iv1.test",
  GITHUB_CLIENT_SECRET: CLIENT_SECRET,
  BASE_URL: "http://localhost:3000",
};
const STATE_COOKIE = "pr_pulse_oauth_state";

const ACME = 101;
const GLOBEX = 202;
const admin = { id: 9001, login: "octo-admin" };

interface Server {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

interface Page {
  status: number;
  headers: Headers;
  body: string;
  cookies: Record<string, SetCookie>;
}

let database: TestDatabase;
let server: Server;
/** Every log line the servers wrote, to prove the user token never reaches them. */
const logLines: string[] = [];
/** Every response of a test, to prove the user token never reaches a browser. */
let pages: Page[] = [];

// app.inject is out of reach under Jest (light-my-request require()s the ESM-only `cookie`), so
// the tests talk HTTP to a listening server, as a browser would.
async function startServer(env: Record<string, string>): Promise<Server> {
  const config = testConfig({ DATABASE_URL: database.url, ...env });
  const log = pino({ level: "trace" }, { write: (line: string) => logLines.push(line) });
  // The web pages only: no job is worked here.
  const runtime = await startRuntime({ config, log, queues: [] });
  return { app: runtime.server, url: runtime.url, stop: () => runtime.stop() };
}

async function send(
  path: string,
  options: {
    cookies?: Record<string, string>;
    cookieHeader?: string;
    form?: Record<string, string>;
    to?: Server;
  } = {},
): Promise<Page> {
  const { cookies = {}, form, to = server } = options;
  const response = await fetch(`${to.url}${path}`, {
    redirect: "manual",
    headers: {
      cookie: options.cookieHeader ?? cookieHeader(cookies),
      ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
    },
    ...(form ? { method: "POST", body: new URLSearchParams(form).toString() } : {}),
  });
  const page = {
    status: response.status,
    headers: response.headers,
    body: await response.text(),
    cookies: setCookies(response),
  };
  pages.push(page);
  return page;
}

const get = (path: string, cookies: Record<string, string> = {}) => send(path, { cookies });

async function seed() {
  await database.db.insert(installations).values([
    { id: ACME, accountId: 5001, accountLogin: "acme", accountType: "Organization" },
    { id: GLOBEX, accountId: 5002, accountLogin: "globex", accountType: "Organization" },
  ]);
  await database.db.insert(repositories).values([
    { id: 1001, installationId: ACME, fullName: "acme/widgets", tracked: true },
    { id: 2001, installationId: GLOBEX, fullName: "globex/secret-plans", tracked: true },
  ]);
}

type Answer = { status: number; body?: object };
const membership = (role: string, state = "active"): Answer => ({ status: 200, body: { role, state } });

/** GitHub's side of a sign-in: the token exchange, the user, their installations and memberships. */
function mockGitHubSignIn(memberships: Record<string, Answer>) {
  const web = nock(GITHUB)
    .post("/login/oauth/access_token", {
      client_id: "Iv1.test",
      client_secret: CLIENT_SECRET,
      code: "code-123",
      redirect_uri: "http://localhost:3000/login/callback",
    })
    .matchHeader("accept", "application/json")
    .reply(200, { access_token: USER_TOKEN, token_type: "bearer", scope: "" });
  let api = nock(API, { reqheaders: { authorization: `token ${USER_TOKEN}` } })
    .get("/user")
    .reply(200, admin)
    .get("/user/installations")
    .query({ per_page: "100", page: "1" })
    .reply(200, {
      total_count: 2,
      installations: [
        { id: ACME, account: { id: 5001, login: "acme", type: "Organization" } },
        { id: GLOBEX, account: { id: 5002, login: "globex", type: "Organization" } },
      ],
    });
  for (const [org, answer] of Object.entries(memberships)) {
    api = api
      .get(`/user/memberships/orgs/${org}`)
      .reply(answer.status, answer.body ?? { message: "Not Found" });
  }
  return [web, api];
}

/** GET /login, then GitHub's redirect back to the callback with the state it was given. */
async function signIn(options: { state?: (state: string) => string | undefined; next?: string } = {}) {
  const login = await get(
    options.next === undefined ? "/login" : `/login?next=${encodeURIComponent(options.next)}`,
  );
  const stateCookie = login.cookies[STATE_COOKIE]!;
  const state = new URL(login.headers.get("location")!).searchParams.get("state")!;
  const sentState = options.state ? options.state(state) : state;
  const query = new URLSearchParams({ code: "code-123", ...(sentState ? { state: sentState } : {}) });
  const next = login.cookies["pr_pulse_next"];
  return get(`/login/callback?${query.toString()}`, {
    [STATE_COOKIE]: stateCookie.value,
    ...(next ? { pr_pulse_next: next.value } : {}),
  });
}

/** The session rows of a user: what the server keeps of a sign-in. */
async function sessionsOf(userId: number) {
  return database.db.select().from(sessions).where(eq(sessions.userId, userId));
}

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServer(OAUTH_ENV);
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
  nock.enableNetConnect();
  // Jest reuses worker processes across files: take nock's interceptors out of this one.
  nock.restore();
});

beforeEach(async () => {
  await database.truncate();
  await seed();
  nock.cleanAll();
  pages = [];
  logLines.length = 0;
});

afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  for (const page of pages) {
    for (const secret of [USER_TOKEN, CLIENT_SECRET]) {
      expect(page.body).not.toContain(secret);
      expect(JSON.stringify([...page.headers])).not.toContain(secret);
    }
  }
  expect(logLines.join("")).not.toContain(USER_TOKEN);
});

describe("signed out", () => {
  it("shows the sign-in page and no installation", async () => {
    const page = await get("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.body).toContain('href="/login"');
    expect(page.body).toContain("Sign in with GitHub");
    for (const name of ["acme", "globex", "widgets", "secret-plans"]) expect(page.body).not.toContain(name);
  });

  it("sends /login to GitHub's consent page with a state kept in a signed cookie", async () => {
    const page = await get("/login");
    expect(page.status).toBe(302);
    const location = new URL(page.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe(`${GITHUB}/login/oauth/authorize`);
    expect(location.searchParams.get("client_id")).toBe("Iv1.test");
    expect(location.searchParams.get("redirect_uri")).toBe("http://localhost:3000/login/callback");
    const state = location.searchParams.get("state")!;
    expect(state).toMatch(/^[0-9a-f]{32}$/);
    const cookie = page.cookies[STATE_COOKIE]!;
    expect(cookie.attributes).toMatchObject({ httponly: true, samesite: "Lax", path: "/login" });
    expect(server.app.unsignCookie(cookie.value)).toMatchObject({ valid: true, value: state });
  });
});

describe("signing in", () => {
  it("queues a reconciliation of the App's installations with GitHub (one they have that was missed appears)", async () => {
    await database.sql`delete from pgboss.job where name = 'reconcile-installations'`;
    const scopes = mockGitHubSignIn({ acme: membership("admin"), globex: membership("member") });
    expect((await signIn()).status).toBe(303);
    for (const scope of scopes) scope.done();
    expect(await database.sql`select state from pgboss.job where name = 'reconcile-installations'`).toEqual([
      { state: "created" },
    ]);
  });

  it("lets an org admin see only the installations they administer", async () => {
    const scopes = mockGitHubSignIn({ acme: membership("admin"), globex: membership("member") });
    const callback = await signIn();
    expect(callback.status).toBe(303);
    expect(callback.headers.get("location")).toBe("/");
    expect(callback.cookies[STATE_COOKIE]?.value).toBe("");
    const session = callback.cookies[SESSION_COOKIE]!;
    expect(session.attributes).toMatchObject({
      httponly: true,
      samesite: "Lax",
      path: "/",
      "max-age": String(8 * 3600),
    });
    expect(session.attributes.secure).toBeUndefined();
    // The browser holds a random token; the server keeps the session (and nothing of GitHub's).
    const [stored] = await sessionsOf(admin.id);
    expect(stored).toMatchObject({ login: admin.login, installationIds: [ACME] });
    expect(session.value).not.toContain(String(ACME));
    expect(JSON.stringify(stored)).not.toContain(USER_TOKEN);
    for (const scope of scopes) scope.done();

    const home = await get("/", { [SESSION_COOKIE]: session.value });
    expect(home.status).toBe(200);
    expect(home.headers.get("cache-control")).toBe("no-store");
    expect(home.body).toContain(`href="/installations/${ACME}/repositories">acme</a>`);
    expect(home.body).not.toContain("globex");
    expect(home.body).toContain("Signed in as <strong>octo-admin</strong>");
    expect(home.body).toContain('<form class="account" method="post" action="/logout">');
  });

  it("lets a user administer the installation on their own account, across pages", async () => {
    // A full first page of other people's accounts makes the sign-in ask for page 2.
    const others = Array.from({ length: 100 }, (_, i) => ({
      id: 10_000 + i,
      account: { id: 20_000 + i, login: `someone-${i}`, type: "User" },
    }));
    const web = nock(GITHUB)
      .post("/login/oauth/access_token")
      .reply(200, { access_token: USER_TOKEN, token_type: "bearer" });
    const api = nock(API, { reqheaders: { authorization: `token ${USER_TOKEN}` } })
      .get("/user")
      .reply(200, admin)
      .get("/user/installations")
      .query({ per_page: "100", page: "1" })
      .reply(200, { total_count: 101, installations: others })
      .get("/user/installations")
      .query({ per_page: "100", page: "2" })
      .reply(200, {
        total_count: 101,
        installations: [{ id: GLOBEX, account: { id: admin.id, login: admin.login, type: "User" } }],
      });
    const callback = await signIn();
    expect(callback.cookies[SESSION_COOKIE]).toBeDefined();
    expect((await sessionsOf(admin.id))[0]).toMatchObject({ installationIds: [GLOBEX] });
    web.done();
    api.done();
  });

  it.each<[string, Answer]>([
    ["a member", membership("member")],
    ["an admin whose membership is still pending", membership("admin", "pending")],
    ["not a member at all", { status: 404 }],
  ])("shows no installation to someone who is %s", async (_name, answer) => {
    const scopes = mockGitHubSignIn({ acme: answer, globex: answer });
    const callback = await signIn();
    const session = callback.cookies[SESSION_COOKIE]!;
    expect((await sessionsOf(admin.id))[0]).toMatchObject({ installationIds: [] });
    for (const scope of scopes) scope.done();

    const home = await get("/", { [SESSION_COOKIE]: session.value });
    expect(home.status).toBe(200);
    expect(home.body).toContain("You are not an admin");
    for (const name of ["acme", "globex"]) expect(home.body).not.toContain(name);
  });

  it.each<[string, (state: string) => string | undefined]>([
    ["a wrong state", () => "0".repeat(32)],
    ["no state", () => undefined],
  ])("refuses a callback with %s and starts no session", async (_name, state) => {
    const callback = await signIn({ state });
    expect(callback.status).toBe(400);
    expect(callback.cookies[SESSION_COOKIE]).toBeUndefined();
  });

  it("refuses a callback without the state cookie", async () => {
    const callback = await get("/login/callback?code=code-123&state=abc");
    expect(callback.status).toBe(400);
    expect(callback.cookies[SESSION_COOKIE]).toBeUndefined();
  });

  it("refuses a code GitHub no longer accepts", async () => {
    const web = nock(GITHUB)
      .post("/login/oauth/access_token")
      .reply(200, { error: "bad_verification_code", error_description: "The code is incorrect or expired." });
    const callback = await signIn();
    expect(callback.status).toBe(400);
    expect(callback.cookies[SESSION_COOKIE]).toBeUndefined();
    web.done();
  });
});

describe("returning after sign-in", () => {
  it("goes back to the page that asked for sign-in", async () => {
    const scopes = mockGitHubSignIn({ acme: membership("admin"), globex: membership("member") });
    const callback = await signIn({ next: `/installations/${ACME}/repositories?q=wid` });
    expect(callback.status).toBe(303);
    expect(callback.headers.get("location")).toBe(`/installations/${ACME}/repositories?q=wid`);
    for (const scope of scopes) scope.done();
  });

  it.each(["//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:alert(1)"])(
    "never leaves the origin (next=%s)",
    async (next) => {
      const scopes = mockGitHubSignIn({ acme: membership("admin"), globex: membership("member") });
      const callback = await signIn({ next });
      expect(callback.headers.get("location")).toBe("/");
      for (const scope of scopes) scope.done();
    },
  );

  it("asks a signed-out visitor of a page to sign in, and remembers the page", async () => {
    const page = await get(`/installations/${ACME}/repositories`);
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe(
      `/login?next=${encodeURIComponent(`/installations/${ACME}/repositories`)}`,
    );
  });
});

describe("the session cookie", () => {
  it("is trusted with a valid signature", async () => {
    const session = await signedIn(database, server.app, { installationIds: [ACME] });
    const home = await send("/", { cookieHeader: session.cookie });
    expect(home.body).toContain(`>acme</a>`);
  });

  it("is ignored once tampered with", async () => {
    const session = await signedIn(database, server.app, { installationIds: [ACME] });
    const value = decodeURIComponent(session.cookie.slice(session.cookie.indexOf("=") + 1));
    const [token = "", signature = ""] = value.split(".");
    // One character changed: never the one it already is (a token ending in A made this pass as it was).
    const changed = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    for (const forged of [token, `${token}x.${signature}`, `${changed}.${signature}`]) {
      const home = await get("/", { [SESSION_COOKIE]: forged });
      expect(home.body).toContain("Sign in with GitHub");
      expect(home.body).not.toContain("acme");
    }
  });

  it("is ignored once its session expired", async () => {
    const session = await signedIn(database, server.app, {
      installationIds: [ACME],
      expiresAt: new Date(Date.now() - 1000),
    });
    const home = await send("/", { cookieHeader: session.cookie });
    expect(home.body).toContain("Sign in with GitHub");
    expect(home.body).not.toContain("acme");
  });
});

describe("signing out", () => {
  /** A signed-in admin's cookie and the CSRF token of the logout form on their page. */
  async function signedInPage(): Promise<{ cookie: string; token: string }> {
    const session = await signedIn(database, server.app, { installationIds: [ACME] });
    const home = await send("/", { cookieHeader: session.cookie });
    const token = /name="_csrf" value="([^"]+)"/.exec(home.body)?.[1];
    expect(token).toBe(session.csrfToken);
    return { cookie: session.cookie, token: token! };
  }

  it("refuses a logout without the session's CSRF token", async () => {
    const { cookie, token } = await signedInPage();
    const other = await signedIn(database, server.app, { userId: 4242, installationIds: [GLOBEX] });
    const forms: Record<string, string>[] = [
      {},
      { _csrf: `${token.slice(0, -2)}xx` },
      { _csrf: other.csrfToken },
    ];
    for (const form of forms) {
      const page = await send("/logout", { cookieHeader: cookie, form });
      expect(page.status).toBe(403);
    }
    expect(await database.db.select().from(sessions)).toHaveLength(2);
  });

  it("ends the session: the old cookie no longer signs anyone in", async () => {
    const { cookie, token } = await signedInPage();
    const page = await send("/logout", { cookieHeader: cookie, form: { _csrf: token } });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/");
    expect(page.cookies[SESSION_COOKIE]!.value).toBe("");
    expect(await database.db.select().from(sessions)).toHaveLength(0);

    // A copy of the cookie taken before signing out is worth nothing now.
    const replayed = await send("/", { cookieHeader: cookie });
    expect(replayed.body).toContain("Sign in with GitHub");
    expect(replayed.body).not.toContain("acme");
  });

  it("gives a new CSRF token with every sign-in", async () => {
    const first = await signedIn(database, server.app, { installationIds: [ACME] });
    const scopes = mockGitHubSignIn({ acme: membership("admin"), globex: membership("member") });
    await signIn();
    for (const scope of scopes) scope.done();
    const tokens = (await database.db.select().from(sessions)).map((row) => row.csrfToken);
    expect(new Set(tokens).size).toBe(2);
    expect(tokens).toContain(first.csrfToken);
  });
});

describe("without an OAuth client", () => {
  let bare: Server;
  beforeAll(async () => {
    bare = await startServer({ BASE_URL: "http://localhost:3000" });
  });
  afterAll(async () => {
    await bare?.stop();
  });

  it("explains which variables sign-in needs and never redirects to GitHub", async () => {
    const home = await send("/", { to: bare });
    expect(home.body).toContain("GITHUB_CLIENT_ID");
    expect(home.body).toContain("GITHUB_CLIENT_SECRET");
    expect(home.body).not.toContain('href="/login"');
    const login = await send("/login", { to: bare });
    expect(login.status).toBe(302);
    expect(login.headers.get("location")).toBe("/");
  });
});
