/**
 * GitHub's OAuth web flow for the App's client ("Sign in with GitHub"), enough for `npm run demo` and
 * sign-in tests: no consent page, the authorize step redirects straight back with a code for the
 * signed-in browser user. Served like GHES: authorize and access_token at the web root, the user
 * endpoints under /api/v3 (or bare, as api.github.com serves them).
 * https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
 */
import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { installationJson, userDetailJson } from "./shapes.js";
import type { Json, Urls } from "./shapes.js";
import type { App, Installation, User, World } from "./world.js";

/** GitHub's list defaults and caps (GET /user/installations). */
const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;
/** Codes are single-use and expire after ten minutes on GitHub. */
const CODE_LIFETIME_MS = 10 * 60_000;
const REST_PREFIX = "/api/v3";
const DOCS = "https://docs.github.com/rest";

export type OrgRole = "admin" | "member";

export interface OAuthResponse {
  status: number;
  /** Including content-type (JSON, form-encoded, or none for redirects). */
  headers: Record<string, string>;
  text: string;
  /** Route pattern for the fake's stats. */
  route: string;
}

interface Grant {
  appId: number;
  userId: number;
  redirectUri: string;
  expiresAt: number;
}

/**
 * The OAuth side of the fake: which user the "browser" is signed in as, org roles (the world only
 * knows membership), issued codes and user tokens.
 */
export class FakeOAuth {
  readonly #world: World;
  readonly #codes = new Map<string, Grant>();
  readonly #tokens = new Map<string, { appId: number; userId: number }>();
  #browserUserId: number | undefined;

  constructor(world: World) {
    this.#world = world;
  }

  /** The App's OAuth client: the id GitHub shows on the App's page and a secret derived from it. */
  credentials(appId: number): { clientId: string; clientSecret: string } {
    const app = this.#world.addApp({ id: appId });
    return { clientId: app.clientId, clientSecret: clientSecretOf(app) };
  }

  /** The user the authorize step signs in (a `login` query parameter overrides it, as on GitHub). */
  signInAs(login: string): User {
    const user = this.#mustUser(login);
    this.#browserUserId = user.id;
    return user;
  }

  /** Org role for GET /user/memberships/orgs/:org; members default to "member". */
  setRole(orgLogin: string, login: string, role: OrgRole): void {
    const user = this.#mustUser(login);
    const org = this.#world.getAccount(orgLogin);
    if (org === undefined) throw new Error(`unknown org ${orgLogin}`);
    this.#world.addMember(org.login, user.id);
    this.#world.setOrgRole(org.id, user.id, role);
  }

  /** Answers the OAuth routes; null for every other request (the REST handler takes it). */
  handle(
    method: string,
    requestUrl: URL,
    headers: IncomingHttpHeaders,
    body: Buffer,
    urls: Urls,
  ): OAuthResponse | null {
    const path = requestUrl.pathname.replace(/\/$/, "");
    if (method === "GET" && path === "/login/oauth/authorize") return this.#authorize(requestUrl);
    if (method === "POST" && path === "/login/oauth/access_token") {
      return this.#accessToken(requestUrl, headers, body);
    }
    const apiPath = path.startsWith(`${REST_PREFIX}/`) ? path.slice(REST_PREFIX.length) : path;
    if (method !== "GET") return null;
    if (apiPath === "/user") {
      return this.#asUser(headers, "GET /user", (user) => json(200, userDetailJson(user, urls), "GET /user"));
    }
    if (apiPath === "/user/installations") {
      return this.#asUser(headers, "GET /user/installations", (user, appId) =>
        this.#installations(requestUrl, user, appId, urls),
      );
    }
    const membership = /^\/user\/memberships\/orgs\/([^/]+)$/.exec(apiPath);
    if (membership?.[1] !== undefined) {
      const orgLogin = decodeURIComponent(membership[1]);
      return this.#asUser(headers, "GET /user/memberships/orgs/:org", (user) =>
        this.#membership(orgLogin, user, urls),
      );
    }
    return null;
  }

  #authorize(requestUrl: URL): OAuthResponse {
    const route = "GET /login/oauth/authorize";
    const query = requestUrl.searchParams;
    const app = this.#appByClientId(query.get("client_id"));
    const redirectUri = query.get("redirect_uri");
    // GitHub shows an error page for an unknown client or a malformed callback; no redirect.
    if (app === undefined) return json(404, { message: "Not Found", documentation_url: DOCS }, route);
    if (redirectUri === null || !URL.canParse(redirectUri)) {
      return json(400, { message: "redirect_uri is missing or invalid", documentation_url: DOCS }, route);
    }
    const login = query.get("login");
    const user = login === null ? this.#browserUser() : this.#world.findUser(login);
    if (user === undefined) {
      return json(400, { message: "No user signed in to the fake GitHub (FakeOAuth.signInAs)" }, route);
    }
    const code = randomBytes(10).toString("hex");
    this.#codes.set(code, {
      appId: app.id,
      userId: user.id,
      redirectUri,
      expiresAt: Date.now() + CODE_LIFETIME_MS,
    });
    const target = new URL(redirectUri);
    target.searchParams.set("code", code);
    const state = query.get("state");
    if (state !== null) target.searchParams.set("state", state);
    return { status: 302, headers: { location: target.toString() }, text: "", route };
  }

  #accessToken(requestUrl: URL, headers: IncomingHttpHeaders, body: Buffer): OAuthResponse {
    const route = "POST /login/oauth/access_token";
    const params = readParams(requestUrl, headers, body);
    const wantsJson = /application\/json/i.test(headers.accept ?? "");
    // GitHub answers refusals with 200 and an `error` field, in the format the client asked for.
    const reply = (fields: Record<string, string>): OAuthResponse =>
      wantsJson
        ? json(200, fields, route)
        : {
            status: 200,
            headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
            text: new URLSearchParams(fields).toString(),
            route,
          };
    const app = this.#appByClientId(params.get("client_id"));
    if (app === undefined || params.get("client_secret") !== clientSecretOf(app)) {
      return reply({
        error: "incorrect_client_credentials",
        error_description: "The client_id and/or client_secret passed are incorrect.",
        error_uri:
          "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials",
      });
    }
    const code = params.get("code") ?? "";
    const grant = this.#codes.get(code);
    this.#codes.delete(code);
    if (grant === undefined || grant.appId !== app.id || grant.expiresAt <= Date.now()) {
      return reply({
        error: "bad_verification_code",
        error_description: "The code passed is incorrect or expired.",
        error_uri:
          "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code",
      });
    }
    const redirectUri = params.get("redirect_uri");
    if (redirectUri !== null && redirectUri !== grant.redirectUri) {
      return reply({
        error: "redirect_uri_mismatch",
        error_description: "The redirect_uri MUST match the registered callback URL for this application.",
        error_uri:
          "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch",
      });
    }
    // GitHub App user tokens: ghu_ + 36 characters.
    const token = `ghu_${randomBytes(27).toString("base64url").slice(0, 36)}`;
    this.#tokens.set(token, { appId: app.id, userId: grant.userId });
    return reply({ access_token: token, token_type: "bearer", scope: "" });
  }

  #installations(requestUrl: URL, user: User, appId: number, urls: Urls): OAuthResponse {
    const route = "GET /user/installations";
    // The App's installations on the user's own account or on orgs the user belongs to.
    const visible = [...this.#world.installations.values()].filter(
      (installation) => installation.appId === appId && this.#canSee(installation, user),
    );
    const perPage = clampInt(requestUrl.searchParams.get("per_page"), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE);
    const page = clampInt(requestUrl.searchParams.get("page"), 1, 1, Number.MAX_SAFE_INTEGER);
    const lastPage = Math.max(1, Math.ceil(visible.length / perPage));
    const installations = visible
      .slice((page - 1) * perPage, page * perPage)
      .map((installation) => installationJson(this.#world, installation, urls));
    const link = (target: number, rel: string): string => {
      const url = new URL(requestUrl);
      url.searchParams.set("per_page", String(perPage));
      url.searchParams.set("page", String(target));
      return `<${url.toString()}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(Math.min(page - 1, lastPage), "prev"));
    if (page < lastPage) links.push(link(page + 1, "next"), link(lastPage, "last"));
    if (page > 1) links.push(link(1, "first"));
    const response = json(200, { total_count: visible.length, installations }, route);
    if (links.length > 0) response.headers["link"] = links.join(", ");
    return response;
  }

  #membership(orgLogin: string, user: User, urls: Urls): OAuthResponse {
    const route = "GET /user/memberships/orgs/:org";
    const org = this.#world.getAccount(orgLogin);
    if (org === undefined || org.type !== "Organization" || !org.memberIds.includes(user.id)) {
      return json(404, { message: "Not Found", documentation_url: DOCS }, route);
    }
    return json(
      200,
      {
        url: `${urls.api}/orgs/${org.login}/memberships/${user.login}`,
        state: "active",
        role: this.#world.orgRoleOf(org.id, user.id),
        organization_url: `${urls.api}/orgs/${org.login}`,
        organization: {
          login: org.login,
          id: org.id,
          node_id: org.nodeId,
          url: `${urls.api}/orgs/${org.login}`,
        },
        user: { login: user.login, id: user.id, node_id: user.nodeId, type: user.type },
      },
      route,
    );
  }

  #asUser(
    headers: IncomingHttpHeaders,
    route: string,
    answer: (user: User, appId: number) => OAuthResponse,
  ): OAuthResponse {
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(headers.authorization ?? "")?.[1];
    const grant = token === undefined ? undefined : this.#tokens.get(token);
    const user = grant === undefined ? undefined : this.#world.getUser(grant.userId);
    if (grant === undefined || user === undefined) {
      const message = token === undefined ? "Requires authentication" : "Bad credentials";
      return json(401, { message, documentation_url: DOCS }, route);
    }
    return answer(user, grant.appId);
  }

  #canSee(installation: Installation, user: User): boolean {
    const account = this.#world.accounts.get(installation.accountId);
    if (account === undefined) return false;
    return account.type === "User" ? account.login === user.login : account.memberIds.includes(user.id);
  }

  #browserUser(): User | undefined {
    return this.#browserUserId === undefined ? undefined : this.#world.getUser(this.#browserUserId);
  }

  #appByClientId(clientId: string | null): App | undefined {
    return [...this.#world.apps.values()].find((app) => app.clientId === clientId);
  }

  #mustUser(login: string): User {
    const user = this.#world.findUser(login);
    if (user === undefined) throw new Error(`unknown user ${login}`);
    return user;
  }
}

/** Deterministic per App, so a demo can configure GITHUB_CLIENT_SECRET before the fake starts. */
function clientSecretOf(app: App): string {
  return `fake-client-secret-${app.id}`;
}

function json(status: number, body: Json, route: string): OAuthResponse {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
    text: JSON.stringify(body),
    route,
  };
}

/** GitHub reads the token request's parameters from the query, a form body or a JSON body. */
function readParams(requestUrl: URL, headers: IncomingHttpHeaders, body: Buffer): URLSearchParams {
  const params = new URLSearchParams(requestUrl.searchParams);
  const text = body.toString("utf8");
  if (text.length === 0) return params;
  if (/application\/json/i.test(headers["content-type"] ?? "")) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed !== null && typeof parsed === "object") {
        for (const [key, value] of Object.entries(parsed)) {
          if (typeof value === "string" || typeof value === "number") params.set(key, String(value));
        }
      }
    } catch {
      // An unparseable body carries no parameters, as on GitHub.
    }
    return params;
  }
  for (const [key, value] of new URLSearchParams(text)) params.set(key, value);
  return params;
}

function clampInt(raw: string | null, fallback: number, min: number, max: number): number {
  const value = raw === null ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}
