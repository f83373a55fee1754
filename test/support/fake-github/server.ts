/**
 * The HTTP front of the fake GitHub: GHES-style paths (REST under /api/v3 or bare, GraphQL at
 * /api/graphql or /graphql), then per request: stats, faults, auth + rate limits, the handler,
 * emulated latency.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Faults } from "./faults.js";
import type { FaultResponse, Hang } from "./faults.js";
import { executeGraphql, loadGitHubSchema } from "./graphql.js";
import type { GraphqlRequest } from "./graphql.js";
import { FakeOAuth } from "./oauth.js";
import { DEFAULT_RATE_LIMIT, RateLimiter, rateLimitHeaders } from "./rate-limit.js";
import type { RateLimitOptions } from "./rate-limit.js";
import { handleRest } from "./rest.js";
import type { Urls } from "./shapes.js";
import { redeliverWebhook } from "./webhooks.js";
import { World } from "./world.js";
import type { HookDeliveryRecord } from "./world.js";

export interface FakeGitHubOptions {
  /** Default 0 (ephemeral); the host is always 127.0.0.1. */
  port?: number;
  /** Seeds generated data and fault decisions. Default 1. */
  seed?: number;
  /** Added per request: baseMs + perNodeMs × objects returned. Default {0, 0}. */
  latency?: { baseMs: number; perNodeMs: number };
  /** Per installation token, separate "core" (REST) and "graphql" buckets. Default 5000/3600. */
  rateLimit?: RateLimitOptions;
  /**
   * Default true. False emulates a GHES with rate limiting disabled: no x-ratelimit-* headers, no
   * accounting, GraphQL rateLimit resolves to null, GET /rate_limit is 404.
   */
  sendRateLimitHeaders?: boolean;
  /** Serve an existing world (e.g. one seeded once for several benchmark runs). */
  world?: World;
}

export interface FakeGitHubStats {
  rest: number;
  graphql: number;
  graphqlPoints: number;
  byRoute: Record<string, number>;
  /**
   * The most requests made with one installation's tokens that were in flight at once, by
   * installation id: what GitHub sees of a client's per-installation concurrency.
   */
  maxInFlightByInstallation: Record<string, number>;
  /**
   * Each GraphQL query answered, in order, by operation name with the points it cost and the
   * objects it returned (what the latency model charges), and when it arrived and was answered
   * (ms since the counters were last reset): a client's idle time shows between them.
   */
  operations: { name: string; cost: number; nodes: number; startMs: number; endMs: number }[];
}

export interface FakeGitHub {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT, for GHE_HOST (with GHE_PROTOCOL=http). */
  host: string;
  /** REST and web bases, for buildWebhook payload urls that point at this server. */
  urls: Urls;
  world: World;
  faults: Faults;
  stats: { reset(): void; snapshot(): FakeGitHubStats };
  /** The primary rate-limit buckets; `reset()` starts a fresh window for everyone. */
  rateLimits: RateLimiter;
  /** "Sign in with GitHub": the browser's user, org roles, the App's OAuth client credentials. */
  oauth: FakeOAuth;
  close(): Promise<void>;
}

/** What GHES 3.x reports; Octokit only checks that the header exists. */
const GHES_VERSION = "3.15.0";
const GRAPHQL_PATHS = new Set(["/api/graphql", "/graphql"]);
const REST_PREFIX = "/api/v3";

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const seed = options.seed ?? 1;
  const world = options.world ?? new World({ seed });
  const faults = new Faults(seed);
  const latency = options.latency ?? { baseMs: 0, perNodeMs: 0 };
  const rateLimits = new RateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const limiter = options.sendRateLimitHeaders === false ? null : rateLimits;
  const stats: FakeGitHubStats = {
    rest: 0,
    graphql: 0,
    graphqlPoints: 0,
    byRoute: {},
    maxInFlightByInstallation: {},
    operations: [],
  };
  let statsSince = performance.now();
  const sinceReset = () => Math.round(performance.now() - statsSince);
  const inFlight = new Map<number, number>();
  const oauth = new FakeOAuth(world);
  // Build the schema now so the first GraphQL request is not 0.3 s slower than the rest.
  loadGitHubSchema();

  let urls: Urls = { api: "", web: "" };
  const count = (key: string): void => {
    stats.byRoute[key] = (stats.byRoute[key] ?? 0) + 1;
  };
  const delay = async (nodes: number): Promise<void> => {
    const ms = latency.baseMs + latency.perNodeMs * nodes;
    if (ms > 0) await sleep(ms);
  };

  // GitHub answers 202 at once and redelivers afterwards.
  const redeliver = (attempt: HookDeliveryRecord): void => {
    setImmediate(() => {
      redeliverWebhook(world, attempt).catch((error: unknown) => {
        console.error("fake-github: redelivery failed", error);
      });
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    const requestUrl = new URL(req.url ?? "/", urls.web);
    const method = req.method ?? "GET";
    const isGraphql = method === "POST" && GRAPHQL_PATHS.has(requestUrl.pathname);

    if (isGraphql) {
      const startMs = sinceReset();
      stats.graphql++;
      count("POST /graphql");
      let request: GraphqlRequest;
      try {
        request = JSON.parse(raw.toString("utf8") || "{}") as GraphqlRequest;
      } catch {
        return send(
          res,
          400,
          {},
          { message: "Problems parsing JSON", documentation_url: "https://docs.github.com/graphql" },
        );
      }
      const fault = faults.pick(requestUrl.pathname, typeof request.query === "string" ? request.query : "");
      if (fault !== null) return sendFault(res, fault, delay);
      const hang = faults.hang(requestUrl.pathname);
      if (hang === "no-answer") return hangUntilClosed(res, faults);
      const installation = authenticateToken(world, req.headers.authorization);
      if (installation === undefined) {
        await delay(0);
        return send(
          res,
          401,
          {},
          { message: "Bad credentials", documentation_url: "https://docs.github.com/graphql" },
        );
      }
      const outcome = await executeGraphql({ world, urls, installationId: installation, limiter }, request);
      stats.graphqlPoints += outcome.cost;
      const answered = {
        name: operationName(request),
        cost: outcome.cost,
        nodes: outcome.nodes,
        startMs,
        endMs: startMs,
      };
      stats.operations.push(answered);
      const timeout = faults.timeoutFor(outcome.nodes);
      if (timeout !== null) {
        await sleep(timeout.delayMs);
        return sendFault(res, timeout.response, delay);
      }
      await delay(outcome.nodes);
      answered.endMs = sinceReset();
      return send(
        res,
        outcome.status,
        outcome.rate === null ? {} : rateLimitHeaders(outcome.rate),
        outcome.body,
        hang,
        faults,
      );
    }

    // User sign-in (not installation traffic): counted by route only.
    const signIn = oauth.handle(method, requestUrl, req.headers, raw, urls);
    if (signIn !== null) {
      count(signIn.route);
      await delay(1);
      res.writeHead(signIn.status, { ...baseHeaders(), ...signIn.headers });
      return void res.end(signIn.text);
    }

    stats.rest++;
    const path = stripPrefix(requestUrl.pathname);
    const fault = faults.pick(requestUrl.pathname);
    if (fault !== null) {
      count(`${method} (fault)`);
      return sendFault(res, fault, delay);
    }
    const hang = faults.hang(requestUrl.pathname);
    if (hang === "no-answer") {
      count(`${method} (hang)`);
      return hangUntilClosed(res, faults);
    }
    const response = handleRest({ world, urls, limiter, requestUrl, redeliver }, method, path, req.headers);
    count(response.route);
    await delay(response.nodes);
    return send(res, response.status, response.headers, response.body, hang, faults);
  };

  const server = createServer((req, res) => {
    const installation = authenticateToken(world, req.headers.authorization);
    if (installation !== undefined) {
      const now = (inFlight.get(installation) ?? 0) + 1;
      inFlight.set(installation, now);
      const max = stats.maxInFlightByInstallation;
      max[installation] = Math.max(max[installation] ?? 0, now);
      res.once("close", () => inFlight.set(installation, (inFlight.get(installation) ?? 1) - 1));
    }
    handle(req, res).catch((error: unknown) => {
      // A bug in the fake must be loud in test output, and still answer like GitHub's 500.
      console.error("fake-github: unhandled error", error);
      if (!res.headersSent) send(res, 500, {}, { message: "Server Error" });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  urls = { api: `http://${host}${REST_PREFIX}`, web: `http://${host}` };

  return {
    url: urls.web,
    host,
    urls,
    world,
    faults,
    rateLimits,
    oauth,
    stats: {
      reset() {
        stats.rest = 0;
        stats.graphql = 0;
        stats.graphqlPoints = 0;
        stats.byRoute = {};
        stats.maxInFlightByInstallation = {};
        stats.operations = [];
        statsSince = performance.now();
      },
      snapshot() {
        return {
          ...stats,
          byRoute: { ...stats.byRoute },
          maxInFlightByInstallation: { ...stats.maxInFlightByInstallation },
          operations: stats.operations.map((operation) => ({ ...operation })),
        };
      },
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets from Octokit's agent would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}

function stripPrefix(pathname: string): string {
  if (pathname === REST_PREFIX) return "/";
  return pathname.startsWith(`${REST_PREFIX}/`) ? pathname.slice(REST_PREFIX.length) : pathname;
}

/** The installation id behind a `token`/`Bearer` installation token, if it is live. */
function authenticateToken(world: World, header: string | undefined): number | undefined {
  const token = /^(?:token|bearer)\s+(\S+)$/i.exec(header ?? "")?.[1];
  return token === undefined ? undefined : world.resolveToken(token)?.installationId;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function sendFault(
  res: ServerResponse,
  fault: FaultResponse,
  delay: (nodes: number) => Promise<void>,
): Promise<void> {
  await delay(0);
  res.writeHead(fault.status, { ...baseHeaders(), ...fault.headers });
  res.end(fault.body);
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: unknown,
  hang: Hang | null = null,
  faults?: Faults,
): void | Promise<void> {
  const bytes = Buffer.from(body === undefined || status === 204 ? "" : JSON.stringify(body));
  res.writeHead(status, {
    ...baseHeaders(),
    "content-type": "application/json; charset=utf-8",
    ...(status === 204 ? {} : { "content-length": String(bytes.length) }),
    ...headers,
  });
  if (hang !== "stalled-body" || faults === undefined) return void res.end(bytes);
  // The whole body announced, half of it sent: the client waits for the rest.
  res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
  return hangUntilClosed(res, faults);
}

/** A request that hangs holds its connection until the client gives up (or the server closes). */
async function hangUntilClosed(res: ServerResponse, faults: Faults): Promise<void> {
  faults.hanging++;
  await new Promise<void>((resolve) => res.once("close", resolve));
  faults.hanging--;
}

function baseHeaders(): Record<string, string> {
  return {
    "x-github-request-id": randomUUID().toUpperCase(),
    "x-github-media-type": "github.v3; format=json",
    "x-github-enterprise-version": GHES_VERSION,
  };
}

/** The query's operation name, as the App's named queries spell it. */
function operationName(request: GraphqlRequest): string {
  const query = typeof request.query === "string" ? request.query : "";
  return /^\s*(?:query|mutation)\s+(\w+)/m.exec(query)?.[1] ?? "anonymous";
}
