import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { loadConfig } from "../src/config.js";
import { signInWithGitHub } from "../src/github/oauth.js";
import { testPrivateKey } from "./support/app.js";
import { startFakeGitHub } from "./support/fake-github/index.js";
import type { FakeGitHub, SeedOrgResult } from "./support/fake-github/index.js";

// The fake GitHub's OAuth web flow, over plain HTTP: what `npm run demo` signs in with.

const APP_ID = 77;
const CALLBACK = "http://localhost:3000/login/callback";

let fake: FakeGitHub;
let acme: SeedOrgResult;
let admin: string;
let member: string;
let client: { clientId: string; clientSecret: string };

beforeAll(async () => {
  fake = await startFakeGitHub({ seed: 3 });
  acme = fake.world.seedOrg({ login: "acme", repos: 1, prsPerRepo: 2, members: 3, appId: APP_ID });
  fake.world.seedOrg({ login: "globex", repos: 1, prsPerRepo: 1, members: 2, appId: APP_ID });
  admin = acme.members[0]!.login;
  member = acme.members[1]!.login;
  fake.oauth.setRole("acme", admin, "admin");
  fake.oauth.signInAs(admin);
  client = fake.oauth.credentials(APP_ID);
});
afterAll(async () => {
  await fake.close();
});

function authorizeUrl(query: Record<string, string>): string {
  return `${fake.url}/login/oauth/authorize?${new URLSearchParams({ client_id: client.clientId, redirect_uri: CALLBACK, ...query }).toString()}`;
}

/** The browser step: GitHub redirects back to the callback with a code and the state. */
async function authorize(query: Record<string, string> = {}): Promise<URL> {
  const response = await fetch(authorizeUrl({ state: "s1", ...query }), { redirect: "manual" });
  expect(response.status).toBe(302);
  return new URL(response.headers.get("location")!);
}

async function exchange(fields: Record<string, string>, accept = "application/json"): Promise<Response> {
  return fetch(`${fake.url}/login/oauth/access_token`, {
    method: "POST",
    headers: { accept, "content-type": "application/json" },
    body: JSON.stringify({ client_id: client.clientId, client_secret: client.clientSecret, ...fields }),
  });
}

async function userToken(login?: string): Promise<string> {
  const callback = await authorize(login === undefined ? {} : { login });
  const response = await exchange({ code: callback.searchParams.get("code")!, redirect_uri: CALLBACK });
  return ((await response.json()) as { access_token: string }).access_token;
}

const api = (path: string, token: string) =>
  fetch(`${fake.url}/api/v3${path}`, { headers: { authorization: `token ${token}` } });

describe("authorize", () => {
  it("redirects straight back to redirect_uri with a code and the state", async () => {
    const callback = await authorize();
    expect(`${callback.origin}${callback.pathname}`).toBe(CALLBACK);
    expect(callback.searchParams.get("state")).toBe("s1");
    expect(callback.searchParams.get("code")).toMatch(/^[\w-]{1,100}$/);
  });

  it.each([
    ["an unknown client", { client_id: "Iv1.nope" }, 404],
    ["a missing redirect_uri", { redirect_uri: "" }, 400],
  ])("refuses %s without redirecting", async (_name, query, status) => {
    const response = await fetch(authorizeUrl(query), { redirect: "manual" });
    expect(response.status).toBe(status);
    expect(response.headers.get("location")).toBeNull();
  });
});

describe("access token", () => {
  it("trades a code once for a bearer token, as JSON when asked", async () => {
    const code = (await authorize()).searchParams.get("code")!;
    const first = await exchange({ code, redirect_uri: CALLBACK });
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toMatch(/application\/json/);
    expect(await first.json()).toEqual({
      access_token: expect.stringMatching(/^ghu_/),
      token_type: "bearer",
      scope: "",
    });
    expect(await (await exchange({ code })).json()).toMatchObject({ error: "bad_verification_code" });
  });

  it("answers form-encoded without Accept: application/json", async () => {
    const code = (await authorize()).searchParams.get("code")!;
    const response = await exchange({ code }, "*/*");
    expect(response.headers.get("content-type")).toMatch(/x-www-form-urlencoded/);
    const fields = new URLSearchParams(await response.text());
    expect(fields.get("token_type")).toBe("bearer");
    expect(fields.get("access_token")).toMatch(/^ghu_/);
  });

  it.each([
    ["a wrong client secret", { client_secret: "wrong" }, "incorrect_client_credentials"],
    ["another redirect_uri", { redirect_uri: "http://evil.example/cb" }, "redirect_uri_mismatch"],
  ])("refuses %s with 200 and an error field", async (_name, fields, error) => {
    const code = (await authorize()).searchParams.get("code")!;
    const response = await exchange({ code, ...fields });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ error });
  });
});

describe("user endpoints", () => {
  it("GET /user is the signed-in user, with or without the /api/v3 prefix", async () => {
    const token = await userToken();
    const user = (await (await api("/user", token)).json()) as { login: string; id: number };
    expect(user).toMatchObject({ login: admin, id: acme.members[0]!.id });
    const bare = await fetch(`${fake.url}/user`, { headers: { authorization: `bearer ${token}` } });
    expect(((await bare.json()) as { login: string }).login).toBe(admin);
  });

  it("refuses missing and unknown tokens with 401", async () => {
    expect((await fetch(`${fake.url}/api/v3/user`)).status).toBe(401);
    expect((await api("/user", "ghu_unknown")).status).toBe(401);
  });

  it("lists the App's installations the user can see, paginated with a Link header", async () => {
    const token = await userToken();
    const all = (await (await api("/user/installations?per_page=100", token)).json()) as {
      total_count: number;
      installations: { id: number; account: { login: string; type: string } }[];
    };
    // Only the org the user belongs to: globex's installation is not visible to acme's admin.
    expect(all.total_count).toBe(1);
    expect(all.installations.map((i) => i.account.login)).toEqual(["acme"]);
    expect(all.installations[0]).toMatchObject({ id: acme.installation.id, app_id: APP_ID });

    const second = fake.world.addInstallation({ accountLogin: "acme", appId: APP_ID });
    const page1 = await api("/user/installations?per_page=1", token);
    expect(((await page1.json()) as { total_count: number }).total_count).toBe(2);
    expect(page1.headers.get("link")).toContain('rel="next"');
    const page2 = (await (await api("/user/installations?per_page=1&page=2", token)).json()) as {
      installations: { id: number }[];
    };
    expect(page2.installations.map((i) => i.id)).toEqual([second.id]);
    fake.world.removeInstallation(second.id);
  });

  it.each([
    ["the admin", () => admin, 200, { role: "admin", state: "active" }],
    ["a member", () => member, 200, { role: "member", state: "active" }],
  ])("GET /user/memberships/orgs/:org for %s", async (_name, login, status, body) => {
    const token = await userToken(login());
    const response = await api("/user/memberships/orgs/acme", token);
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject(body);
  });

  it("GET /user/memberships/orgs/:org is 404 outside the org", async () => {
    const token = await userToken();
    expect((await api("/user/memberships/orgs/globex", token)).status).toBe(404);
  });
});

describe("the app's sign-in against the fake (GHES paths)", () => {
  const config = () =>
    loadConfig({
      APP_ID: String(APP_ID),
      PRIVATE_KEY: testPrivateKey(),
      WEBHOOK_SECRET: "secret",
      GITHUB_CLIENT_ID: client.clientId,
      GITHUB_CLIENT_SECRET: client.clientSecret,
      GHE_HOST: fake.host,
      GHE_PROTOCOL: "http",
      BASE_URL: "http://localhost:3000",
    });

  it.each([
    ["an org admin administers the installation", () => admin, () => [acme.installation.id]],
    ["a plain member administers nothing", () => member, () => []],
  ])("%s", async (_name, login, expected) => {
    const callback = await authorize({ login: login() });
    const signIn = await signInWithGitHub(config(), client, callback.searchParams.get("code")!);
    expect(signIn).toEqual({
      userId: fake.world.findUser(login())!.id,
      login: login(),
      installationIds: expected(),
    });
  });
});
