/**
 * The REST routes PR Pulse (and Probot's auth) uses, with GitHub's auth rules, status codes,
 * Link pagination and primary rate limits. Paths arrive without the GHES `/api/v3` prefix.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { BucketState, RateLimiter } from "./rate-limit.js";
import { rateLimitHeaders } from "./rate-limit.js";
import {
  appJson,
  commitJson,
  installationJson,
  organizationJson,
  pullJson,
  repoJson,
  reviewJson,
  userDetailJson,
  userJson,
} from "./shapes.js";
import type { Json, Urls } from "./shapes.js";
import type {
  HookDeliveryRecord,
  Installation,
  PullRequest,
  PullRequestState,
  Repo,
  World,
} from "./world.js";

/** GitHub's list defaults and caps. */
const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;
/** The pull request commits endpoint never lists more than this many. */
const MAX_PULL_COMMITS = 250;
/** Installation tokens from Probot's JWTs are checked for expiry with this much clock-skew slack. */
const JWT_SKEW_SECONDS = 60;
const DOCS = "https://docs.github.com/rest";

export interface RestContext {
  world: World;
  urls: Urls;
  /** Null when rate limiting is disabled (no headers, no accounting). */
  limiter: RateLimiter | null;
  /** The URL as requested (with any /api/v3 prefix), for Link headers. */
  requestUrl: URL;
  /** Sends a recorded delivery attempt again, after the 202 (POST …/attempts). */
  redeliver?: (attempt: HookDeliveryRecord) => void;
}

export interface RestResponse {
  status: number;
  headers: Record<string, string>;
  body: Json | undefined;
  /** Route pattern for stats, e.g. "GET /repos/:owner/:repo/pulls". */
  route: string;
  /** Items returned (array length or 1), for latency emulation. */
  nodes: number;
}

type Auth = { kind: "jwt"; appId: number } | { kind: "installation"; installation: Installation };

interface RouteRequest {
  ctx: RestContext;
  params: Record<string, string>;
  query: URLSearchParams;
  auth: Auth;
}

interface Result {
  status?: number;
  body: Json | undefined;
  headers?: Record<string, string>;
}

interface Route {
  method: string;
  pattern: string;
  regex: RegExp;
  auth: "jwt" | "installation";
  /** Free routes (GET /rate_limit) are not charged to the bucket. */
  free?: boolean;
  handle: (req: RouteRequest) => Result;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const notFound = (): HttpError => new HttpError(404, "Not Found");

function route(
  method: string,
  pattern: string,
  auth: Route["auth"],
  handle: Route["handle"],
  free = false,
): Route {
  const source = pattern.replace(/:(\w+)/g, (_, name: string) => `(?<${name}>[^/]+)`);
  return { method, pattern, regex: new RegExp(`^${source}/?$`), auth, handle, free };
}

const routes: Route[] = [
  route("GET", "/app", "jwt", ({ ctx, auth }) => {
    const app = ctx.world.apps.get(appIdOf(auth));
    if (app === undefined) throw notFound();
    return { body: appJson(ctx.world, app, ctx.urls) };
  }),
  route("GET", "/app/installations", "jwt", (req) => {
    const all = [...req.ctx.world.installations.values()].filter((i) => i.appId === appIdOf(req.auth));
    return paginate(req, all, (i) => installationJson(req.ctx.world, i, req.ctx.urls));
  }),
  route("GET", "/app/installations/:installation_id", "jwt", ({ ctx, params, auth }) => ({
    body: installationJson(ctx.world, appInstallation(ctx, auth, params["installation_id"]), ctx.urls),
  })),
  route("POST", "/app/installations/:installation_id/access_tokens", "jwt", ({ ctx, params, auth }) => {
    const installation = appInstallation(ctx, auth, params["installation_id"]);
    if (installation.suspended) throw new HttpError(403, "This installation has been suspended");
    const issued = ctx.world.issueToken(installation.id);
    return {
      status: 201,
      body: {
        token: issued.token,
        expires_at: issued.expiresAt.toISOString().replace(/\.\d{3}Z$/, "Z"),
        permissions: installation.permissions,
        repository_selection: installation.repositorySelection,
      },
    };
  }),
  route("GET", "/app/hook/deliveries", "jwt", (req) => {
    // Newest first, paged by an opaque cursor (the Link header's rel="next"), like GitHub.
    const appId = appIdOf(req.auth);
    const perPage = clampInt(req.query.get("per_page"), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE);
    const cursor = req.query.get("cursor");
    const before = cursor === null ? Number.POSITIVE_INFINITY : decodeHookCursor(cursor);
    const older = req.ctx.world.hookDeliveries
      .filter((attempt) => attempt.appId === appId && attempt.id < before)
      .sort((a, b) => b.id - a.id);
    const page = older.slice(0, perPage);
    const last = page[page.length - 1];
    const headers: Record<string, string> = {};
    if (older.length > perPage && last !== undefined) {
      const url = new URL(req.ctx.requestUrl);
      url.searchParams.set("per_page", String(perPage));
      url.searchParams.set("cursor", encodeHookCursor(last.id));
      headers["link"] = `<${url.toString()}>; rel="next"`;
    }
    return { body: page.map(hookDeliveryJson), headers };
  }),
  route("GET", "/app/hook/deliveries/:delivery_id", "jwt", ({ ctx, params, auth }) => {
    const attempt = appHookDelivery(ctx, auth, params["delivery_id"]);
    return {
      body: {
        ...(hookDeliveryJson(attempt) as Record<string, Json>),
        url: attempt.sent.url,
        request: { headers: { "X-GitHub-Event": attempt.event }, payload: attempt.sent.payload as Json },
        response: { headers: {}, payload: null },
      },
    };
  }),
  route("POST", "/app/hook/deliveries/:delivery_id/attempts", "jwt", ({ ctx, params, auth }) => {
    const attempt = appHookDelivery(ctx, auth, params["delivery_id"]);
    ctx.redeliver?.(attempt);
    return { status: 202, body: {} };
  }),
  route("GET", "/repos/:owner/:repo/installation", "jwt", ({ ctx, params, auth }) => {
    const repo = ctx.world.findRepo(params["owner"] ?? "", params["repo"] ?? "");
    const installation =
      repo === undefined
        ? undefined
        : ctx.world.installationsForRepo(repo.id).find((i) => i.appId === appIdOf(auth));
    if (installation === undefined) throw notFound();
    return { body: installationJson(ctx.world, installation, ctx.urls) };
  }),
  route("GET", "/orgs/:org/installation", "jwt", ({ ctx, params, auth }) => {
    const account = ctx.world.getAccount(params["org"] ?? "");
    const installation = [...ctx.world.installations.values()].find(
      (i) => i.accountId === account?.id && i.appId === appIdOf(auth),
    );
    if (installation === undefined) throw notFound();
    return { body: installationJson(ctx.world, installation, ctx.urls) };
  }),
  route("GET", "/installation/repositories", "installation", (req) => {
    const installation = installationOf(req.auth);
    const repos = installation.repoIds.flatMap((id) => {
      const repo = req.ctx.world.getRepo(id);
      return repo === undefined ? [] : [repo];
    });
    const page = paginate(req, repos, (repo) => repoJson(req.ctx.world, repo, req.ctx.urls));
    return {
      ...page,
      body: {
        total_count: repos.length,
        repository_selection: installation.repositorySelection,
        repositories: page.body ?? [],
      },
    };
  }),
  route("GET", "/repos/:owner/:repo", "installation", (req) => ({
    body: repoJson(req.ctx.world, visibleRepo(req), req.ctx.urls),
  })),
  route("GET", "/repos/:owner/:repo/pulls", "installation", (req) => {
    const repo = visibleRepo(req);
    const state = req.query.get("state") ?? "open";
    const states: PullRequestState[] | undefined =
      state === "all" ? undefined : state === "closed" ? ["CLOSED", "MERGED"] : ["OPEN"];
    const sort = req.query.get("sort") === "updated" ? "updated" : "created";
    // GitHub: "desc when sort is created or not specified, otherwise asc".
    const direction = req.query.get("direction") ?? (req.query.get("sort") === "updated" ? "asc" : "desc");
    const head = req.query.get("head");
    const list = req.ctx.world.queryPullRequests(repo.id, {
      states,
      sort,
      direction: direction === "asc" ? "asc" : "desc",
      base: req.query.get("base") ?? undefined,
      head: head === null ? undefined : head.replace(/^[^:]+:/, ""),
    });
    return paginate(req, list, (pr) => pullJson(req.ctx.world, pr, req.ctx.urls, false));
  }),
  route("GET", "/repos/:owner/:repo/pulls/:pull_number", "installation", (req) => ({
    body: pullJson(req.ctx.world, visiblePull(req).pr, req.ctx.urls, true),
  })),
  route("GET", "/repos/:owner/:repo/pulls/:pull_number/reviews", "installation", (req) => {
    const { pr } = visiblePull(req);
    // Pending reviews are visible only to their author, which an app never is.
    const reviews = pr.reviews.filter((r) => r.state !== "PENDING");
    return paginate(req, reviews, (review) => reviewJson(req.ctx.world, pr, review, req.ctx.urls, "upper"));
  }),
  route("GET", "/repos/:owner/:repo/pulls/:pull_number/commits", "installation", (req) => {
    const { pr, repo } = visiblePull(req);
    const commits = pr.commits.slice(0, MAX_PULL_COMMITS);
    return paginate(req, commits, (commit) => commitJson(req.ctx.world, repo, commit, req.ctx.urls));
  }),
  route("GET", "/orgs/:org", "installation", ({ ctx, params }) => {
    const org = ctx.world.getAccount(params["org"] ?? "");
    if (org === undefined || org.type !== "Organization") throw notFound();
    return { body: { ...organizationJson(org, ctx.urls), type: "Organization", created_at: org.createdAt } };
  }),
  route("GET", "/orgs/:org/members", "installation", (req) => {
    const org = req.ctx.world.getAccount(req.params["org"] ?? "");
    if (org === undefined || org.type !== "Organization") throw notFound();
    const members = org.memberIds.flatMap((id) => {
      const user = req.ctx.world.getUser(id);
      return user === undefined ? [] : [user];
    });
    return paginate(req, members, (user) => userJson(user, req.ctx.urls));
  }),
  route("GET", "/orgs/:org/members/:username", "installation", ({ ctx, params }) => {
    const org = ctx.world.getAccount(params["org"] ?? "");
    const user = ctx.world.findUser(params["username"] ?? "");
    if (org === undefined || user === undefined || !org.memberIds.includes(user.id)) throw notFound();
    return { status: 204, body: undefined };
  }),
  route("GET", "/orgs/:org/memberships/:username", "installation", ({ ctx, params }) => {
    const org = ctx.world.getAccount(params["org"] ?? "");
    const user = ctx.world.findUser(params["username"] ?? "");
    if (org === undefined || user === undefined || !org.memberIds.includes(user.id)) throw notFound();
    return {
      body: {
        url: `${ctx.urls.api}/orgs/${org.login}/memberships/${user.login}`,
        state: "active",
        role: ctx.world.orgRoleOf(org.id, user.id),
        organization_url: `${ctx.urls.api}/orgs/${org.login}`,
        user: { login: user.login, id: user.id, node_id: user.nodeId, type: user.type },
      },
    };
  }),
  route("GET", "/users/:username", "installation", ({ ctx, params }) => {
    const user = ctx.world.findUser(params["username"] ?? "");
    if (user === undefined) throw notFound();
    return { body: userDetailJson(user, ctx.urls) };
  }),
  route(
    "GET",
    "/rate_limit",
    "installation",
    ({ ctx, auth }) => {
      // GHES with rate limiting disabled answers exactly this.
      if (ctx.limiter === null) throw new HttpError(404, "Rate limiting is not enabled.");
      const id = installationOf(auth).id;
      const resource = (state: BucketState): Json => ({
        limit: state.limit,
        used: state.used,
        remaining: state.remaining,
        reset: state.reset,
      });
      const core = resource(ctx.limiter.peek(id, "core"));
      return {
        body: { resources: { core, graphql: resource(ctx.limiter.peek(id, "graphql")) }, rate: core },
      };
    },
    true,
  ),
];

export function handleRest(
  ctx: RestContext,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
): RestResponse {
  let matched: { route: Route; params: Record<string, string> } | undefined;
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const match = candidate.regex.exec(path);
    if (match !== null) {
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(match.groups ?? {})) params[k] = decodeURIComponent(v);
      matched = { route: candidate, params };
      break;
    }
  }
  if (matched === undefined) return errorResponse(`${method} (unmatched)`, new HttpError(404, "Not Found"));
  const routeName = `${method} ${matched.route.pattern}`;

  let rate: BucketState | null = null;
  try {
    const auth = authenticate(ctx, matched.route.auth, headers["authorization"]);
    if (auth.kind === "installation" && ctx.limiter !== null) {
      if (matched.route.free === true) {
        rate = ctx.limiter.peek(auth.installation.id, "core");
      } else {
        const taken = ctx.limiter.take(auth.installation.id, "core", 1);
        rate = taken.state;
        if (!taken.ok) {
          throw new HttpError(
            403,
            `API rate limit exceeded for installation ID ${auth.installation.id}.`,
            rateLimitHeaders({ ...taken.state, remaining: 0 }),
          );
        }
      }
    }
    const result = matched.route.handle({
      ctx,
      params: matched.params,
      query: ctx.requestUrl.searchParams,
      auth,
    });
    return {
      status: result.status ?? 200,
      headers: { ...(rate === null ? {} : rateLimitHeaders(rate)), ...result.headers },
      body: result.body,
      route: routeName,
      nodes: Array.isArray(result.body) ? result.body.length : 1,
    };
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    const withRate =
      rate === null || "x-ratelimit-remaining" in error.headers ? error : withHeaders(error, rate);
    return errorResponse(routeName, withRate);
  }
}

function withHeaders(error: HttpError, rate: BucketState): HttpError {
  return new HttpError(error.status, error.message, { ...rateLimitHeaders(rate), ...error.headers });
}

function errorResponse(routeName: string, error: HttpError): RestResponse {
  return {
    status: error.status,
    headers: error.headers,
    body: { message: error.message, documentation_url: DOCS },
    route: routeName,
    nodes: 1,
  };
}

// ---- auth ----------------------------------------------------------------------------------------

interface JwtPayload {
  iss?: unknown;
  exp?: unknown;
}

/** Decodes (never verifies: the fake trusts any signature) the payload of a JWT. */
export function decodeJwtPayload(token: string): JwtPayload | null {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[1] === undefined) return null;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    return payload !== null && typeof payload === "object" ? (payload as JwtPayload) : null;
  } catch {
    return null;
  }
}

/** An unsigned app JWT the fake accepts (Probot's real RS256 JWTs are accepted too). */
export function fakeAppJwt(appId: number, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  // GitHub allows app JWTs to live at most ten minutes.
  const lifetimeSeconds = 600;
  return `${part({ alg: "RS256", typ: "JWT" })}.${part({ iat: nowSeconds - JWT_SKEW_SECONDS, exp: nowSeconds + lifetimeSeconds - JWT_SKEW_SECONDS, iss: appId })}.fake-signature`;
}

function authenticate(ctx: RestContext, kind: Route["auth"], header: string | undefined): Auth {
  const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header ?? "");
  const credential = match?.[1];
  if (kind === "jwt") {
    const payload = credential === undefined ? null : decodeJwtPayload(credential);
    const appId = Number(payload?.iss);
    if (payload === null || !ctx.world.apps.has(appId)) {
      throw new HttpError(401, "A JSON web token could not be decoded");
    }
    if (typeof payload.exp === "number" && payload.exp < Date.now() / 1000 - JWT_SKEW_SECONDS) {
      throw new HttpError(
        401,
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
      );
    }
    return { kind: "jwt", appId };
  }
  if (credential === undefined) throw new HttpError(401, "Requires authentication");
  const issued = ctx.world.resolveToken(credential);
  const installation = issued === undefined ? undefined : ctx.world.getInstallation(issued.installationId);
  if (installation === undefined) throw new HttpError(401, "Bad credentials");
  return { kind: "installation", installation };
}

function appIdOf(auth: Auth): number {
  if (auth.kind !== "jwt") throw new HttpError(401, "A JSON web token could not be decoded");
  return auth.appId;
}

function installationOf(auth: Auth): Installation {
  if (auth.kind !== "installation") throw new HttpError(401, "Bad credentials");
  return auth.installation;
}

function appInstallation(ctx: RestContext, auth: Auth, rawId: string | undefined): Installation {
  const installation = ctx.world.getInstallation(Number(rawId));
  if (installation === undefined || installation.appId !== appIdOf(auth)) throw notFound();
  return installation;
}

function appHookDelivery(ctx: RestContext, auth: Auth, rawId: string | undefined): HookDeliveryRecord {
  const attempt = ctx.world.getHookDelivery(Number(rawId));
  if (attempt === undefined || attempt.appId !== appIdOf(auth)) throw notFound();
  return attempt;
}

/** GitHub's delivery cursors are opaque strings like "v1_12077215967". */
function encodeHookCursor(id: number): string {
  return `v1_${id}`;
}

function decodeHookCursor(cursor: string): number {
  const match = /^v1_(\d+)$/.exec(cursor);
  if (match === null) throw new HttpError(400, "Invalid cursor");
  return Number(match[1]);
}

function hookDeliveryJson(attempt: HookDeliveryRecord): Json {
  return {
    id: attempt.id,
    guid: attempt.guid,
    delivered_at: attempt.deliveredAt,
    redelivery: attempt.redelivery,
    duration: attempt.duration,
    status: attempt.status,
    status_code: attempt.statusCode,
    event: attempt.event,
    action: attempt.action,
    installation_id: attempt.installationId,
    repository_id: attempt.repositoryId,
    throttled_at: null,
  };
}

function visibleRepo(req: RouteRequest): Repo {
  const repo = req.ctx.world.findRepo(req.params["owner"] ?? "", req.params["repo"] ?? "");
  // A repository outside the token's installation is indistinguishable from a missing one.
  if (repo === undefined || !installationOf(req.auth).repoIds.includes(repo.id)) throw notFound();
  return repo;
}

function visiblePull(req: RouteRequest): { repo: Repo; pr: PullRequest } {
  const repo = visibleRepo(req);
  const pr = req.ctx.world.getPullRequestByNumber(repo.id, Number(req.params["pull_number"]));
  if (pr === undefined) throw notFound();
  return { repo, pr };
}

// ---- pagination ----------------------------------------------------------------------------------

/** Slices a list by per_page/page and sets GitHub's Link header (prev, next, last, first). */
function paginate<T>(req: RouteRequest, items: readonly T[], toJson: (item: T) => Json): Result {
  const perPage = clampInt(req.query.get("per_page"), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE);
  const page = clampInt(req.query.get("page"), 1, 1, Number.MAX_SAFE_INTEGER);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const body = items.slice((page - 1) * perPage, page * perPage).map(toJson);
  const link = (target: number, rel: string): string => {
    const url = new URL(req.ctx.requestUrl);
    url.searchParams.set("per_page", String(perPage));
    url.searchParams.set("page", String(target));
    return `<${url.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(Math.min(page - 1, lastPage), "prev"));
  if (page < lastPage) links.push(link(page + 1, "next"), link(lastPage, "last"));
  if (page > 1) links.push(link(1, "first"));
  return { body, headers: links.length > 0 ? { link: links.join(", ") } : {} };
}

function clampInt(raw: string | null, fallback: number, min: number, max: number): number {
  const value = raw === null ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}
