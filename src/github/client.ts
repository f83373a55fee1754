import { GraphqlResponseError } from "@octokit/graphql";
import { RequestError } from "@octokit/request-error";
import type { Logger } from "pino";
import type { PaginatingEndpoints } from "@octokit/plugin-paginate-rest";
import type { ProbotOctokit } from "probot";
import {
  AppError,
  AttemptEndedError,
  AuthError,
  CursorError,
  NotFoundError,
  ObjectNotFoundError,
  PermissionError,
  RateLimitedError,
  ServerError,
  TimeoutError,
} from "../errors.js";
import {
  type GqlRateLimit,
  loadQuery,
  type QueryName,
  type QueryResult,
  type QueryVariables,
} from "./queries.js";

/** Who hears about every call (the Prometheus metrics); shaped like src/observability's. */
export interface GitHubUsage {
  request(api: "rest" | "graphql"): void;
  points(cost: number): void;
  rateLimit(state: RateLimitState): void;
}

export interface GitHubClientOptions {
  /** Mints a new installation token in place of the cached one (see installation-client.ts). */
  refreshToken?: () => Promise<void>;
  usage?: GitHubUsage | undefined;
  /**
   * The job attempt's signal: once it aborts (the attempt expired, lost its claim, or the process
   * is stopping) calls in flight are abandoned and new ones fail at once with AttemptEndedError.
   */
  signal?: AbortSignal | undefined;
}

export interface RateLimitState {
  limit: number;
  remaining: number;
  resetAt: Date;
}

/** Without retry-after, GitHub asks clients to wait at least a minute after a secondary limit. */
const SECONDARY_LIMIT_DEFAULT_SECONDS = 60;

/**
 * The only door to GitHub. Wraps an installation-authenticated Octokit: runs the queries in
 * ./queries, tracks the remaining budget from every response, and turns failures into the typed
 * errors of src/errors.ts.
 */
export class GitHubClient {
  /** Null until a response carried rate-limit data; stays null on GHES with rate limiting off. */
  rateLimit: RateLimitState | null = null;
  /** GraphQL points and REST calls this client spent: what the benchmarks count. */
  readonly spent = { graphqlPoints: 0, graphqlCalls: 0, restCalls: 0 };

  private readonly usage: GitHubUsage | undefined;
  private readonly signal: AbortSignal | undefined;

  constructor(
    private readonly octokit: ProbotOctokit,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
    options: GitHubClientOptions = {},
  ) {
    const { refreshToken, usage, signal } = options;
    this.usage = usage;
    this.signal = signal;
    if (signal) {
      // Every request of this client, retries and pages included, carries the attempt's signal.
      octokit.hook.before("request", (requestOptions) => {
        requestOptions.request = { ...requestOptions.request, signal };
      });
    }
    const apiOf = (url: unknown) => (String(url).endsWith("/graphql") ? "graphql" : "rest");
    octokit.hook.after("request", (response, requestOptions) => {
      const api = apiOf(requestOptions.url);
      if (api === "rest") this.spent.restCalls += 1;
      usage?.request(api);
      this.observeHeaders(response.headers);
    });
    octokit.hook.error("request", async (error, requestOptions) => {
      usage?.request(apiOf(requestOptions.url));
      const request = (requestOptions.request ?? {}) as { tokenRefreshed?: boolean };
      // A token GitHub revoked (a suspension, say) stays in Probot's cache for the rest of its hour:
      // on a 401, mint a new one and try once more. If GitHub refuses a new token too, the 401
      // stands, and the job asks GitHub why (src/sync/access.ts).
      if (!refreshToken || (error as { status?: number }).status !== 401 || request.tokenRefreshed)
        throw error;
      try {
        await refreshToken();
      } catch {
        throw error;
      }
      this.log.info("installation token refused; retried with a new one");
      return octokit.request({
        ...requestOptions,
        request: { ...requestOptions.request, tokenRefreshed: true },
      } as never);
    });
  }

  /** Runs one of the queries in ./queries with its generated types. */
  async graphql<N extends QueryName>(
    name: N,
    variables: QueryVariables<N>,
    options: { retries?: number } = {},
  ): Promise<QueryResult<N>> {
    try {
      const data = await this.runQuery(name, variables, options);
      this.observeGraphqlRateLimit(data.rateLimit);
      return data;
    } catch (error) {
      throw this.failure(error);
    }
  }

  /**
   * Runs a query whose parts may fail alone, `nodes(ids:)` above all: an id GitHub cannot resolve
   * is a null in the list and a NOT_FOUND error at its index, while the other objects are answered.
   * Returns the data with the errors that came with it; a query that failed as a whole (a rate
   * limit, a refused token, no data at all) throws like graphql().
   */
  async graphqlPartial<N extends QueryName>(
    name: N,
    variables: QueryVariables<N>,
  ): Promise<{ data: QueryResult<N>; errors: PartialError[] }> {
    try {
      const data = await this.runQuery(name, variables, {});
      this.observeGraphqlRateLimit(data.rateLimit);
      return { data, errors: [] };
    } catch (error) {
      const partial = partialResult<QueryResult<N>>(error);
      if (!partial) throw this.failure(error);
      this.observeGraphqlRateLimit(partial.data.rateLimit);
      return partial;
    }
  }

  private async runQuery<N extends QueryName>(
    name: N,
    variables: QueryVariables<N>,
    options: { retries?: number },
  ): Promise<QueryResult<N>> {
    this.spent.graphqlCalls += 1;
    return this.octokit.graphql<QueryResult<N>>(loadQuery(name), {
      ...variables,
      ...(options.retries === undefined ? {} : { request: { retries: options.retries } }),
    });
  }

  /** Every page of a REST list, 100 items a page. */
  async paginate<R extends keyof PaginatingEndpoints>(
    route: R,
    parameters?: PaginatingEndpoints[R]["parameters"],
  ) {
    try {
      return await this.octokit.paginate(route, { per_page: 100, ...parameters });
    } catch (error) {
      throw this.failure(error);
    }
  }

  /** A user's membership of an organization; null for someone who is not a member (404). */
  async organizationMembership(
    org: string,
    username: string,
  ): Promise<{ role: string; state: string } | null> {
    try {
      const { data } = await this.octokit.request("GET /orgs/{org}/memberships/{username}", {
        org,
        username,
      });
      return { role: data.role, state: data.state };
    } catch (error) {
      const failure = this.failure(error);
      if (failure instanceof NotFoundError) return null;
      throw failure;
    }
  }

  /**
   * Throws RateLimitedError when less than `reservePercent` of the hour's budget is left, keeping
   * that share for webhook-driven work. GHES without rate limits never trips it.
   */
  assertBudget(reservePercent: number): void {
    const state = this.rateLimit;
    if (!state || state.limit <= 0) return;
    if (state.remaining <= (state.limit * reservePercent) / 100 && state.resetAt > this.now()) {
      this.log.info(
        { remaining: state.remaining, limit: state.limit },
        "sync paused to keep the rate-limit reserve",
      );
      throw new RateLimitedError(state.resetAt, "reserve");
    }
  }

  /** What a failed call throws: the attempt's end if it is over, else the typed error. */
  private failure(error: unknown): AppError {
    if (this.signal?.aborted) return new AttemptEndedError("the job attempt ended", { cause: error });
    return toAppError(error);
  }

  private observeGraphqlRateLimit(rateLimit: GqlRateLimit | null | undefined): void {
    if (!rateLimit) return;
    this.spent.graphqlPoints += rateLimit.cost;
    this.usage?.points(rateLimit.cost);
    this.rateLimit = {
      limit: rateLimit.limit,
      remaining: rateLimit.remaining,
      resetAt: new Date(rateLimit.resetAt),
    };
    this.usage?.rateLimit(this.rateLimit);
  }

  private observeHeaders(headers: Record<string, unknown>): void {
    const limit = Number(headers["x-ratelimit-limit"]);
    const remaining = Number(headers["x-ratelimit-remaining"]);
    const reset = Number(headers["x-ratelimit-reset"]);
    if (!Number.isFinite(limit) || !Number.isFinite(remaining) || !Number.isFinite(reset)) return;
    // REST ("core") and GraphQL have separate budgets; only GraphQL's matters for sync.
    if (headers["x-ratelimit-resource"] && headers["x-ratelimit-resource"] !== "graphql") return;
    this.rateLimit = { limit, remaining, resetAt: new Date(reset * 1000) };
    this.usage?.rateLimit(this.rateLimit);
  }
}

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return value === undefined || value === null ? undefined : String(value);
}

function resetFromHeaders(headers: Record<string, unknown> | undefined): Date {
  const reset = Number(header(headers, "x-ratelimit-reset"));
  return Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000) : new Date(Date.now() + 60_000);
}

/** A GraphQL error that came with data: GitHub's type for it and the path of what failed. */
export interface PartialError {
  type: string | undefined;
  path: (string | number)[];
  message: string;
}

/**
 * The indexes of a `nodes(ids:)` list that errors were about; null when an error was about anything
 * else, so that no object of the answer can be trusted on its own.
 */
export function failedNodeIndexes(errors: PartialError[]): Set<number> | null {
  const failed = new Set<number>();
  for (const { path } of errors) {
    const [field, index] = path;
    if (field !== "nodes" || typeof index !== "number") return null;
    failed.add(index);
  }
  return failed;
}

/**
 * The top-level fields (aliases) of a query that errors were about; null when an error was about
 * the query as a whole, so that no field of the answer can be trusted on its own.
 */
export function failedFields(errors: PartialError[]): Set<string> | null {
  const failed = new Set<string>();
  for (const { path } of errors) {
    const [field] = path;
    if (typeof field !== "string") return null;
    failed.add(field);
  }
  return failed;
}

/** The data and errors of a response that answered in part; undefined when nothing was answered. */
function partialResult<T extends { rateLimit?: unknown }>(
  error: unknown,
): { data: T; errors: PartialError[] } | undefined {
  if (!(error instanceof GraphqlResponseError) || !error.data) return undefined;
  const errors = (error.errors ?? []) as { type?: string; path?: (string | number)[]; message?: string }[];
  // A rate limit refuses the whole query, whatever else the response holds.
  if (errors.some((e) => e.type === "RATE_LIMITED")) return undefined;
  return {
    data: error.data as T,
    errors: errors.map((e) => ({ type: e.type, path: e.path ?? [], message: e.message ?? "" })),
  };
}

/** Maps whatever Octokit threw to one of the app's typed errors. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof GraphqlResponseError) {
    const errors = (error.errors ?? []) as { type?: string; message?: string }[];
    const headers = error.headers as Record<string, unknown> | undefined;
    const first = errors[0];
    const message = first?.message ?? error.message;
    if (errors.some((e) => e.type === "RATE_LIMITED")) {
      return new RateLimitedError(resetFromHeaders(headers), "primary", { cause: error });
    }
    if (errors.some((e) => e.type === "NOT_FOUND")) return new ObjectNotFoundError(message, { cause: error });
    if (errors.some((e) => e.type === "FORBIDDEN")) return new PermissionError(message, { cause: error });
    if (/cursor/i.test(message)) return new CursorError(message, { cause: error });
    return new ServerError(`GraphQL error: ${message}`, undefined, { cause: error });
  }
  // Octokit wraps what fetch threw in a status-500 RequestError; a missed deadline stays one.
  if (error instanceof RequestError && error.cause instanceof TimeoutError) {
    return new TimeoutError(error.cause.message, { cause: error });
  }
  if (error instanceof RequestError) {
    const headers = error.response?.headers as Record<string, unknown> | undefined;
    const message = error.message;
    if (error.status === 401) return new AuthError(message, { cause: error });
    if (error.status === 403 || error.status === 429) {
      if (header(headers, "x-ratelimit-remaining") === "0") {
        return new RateLimitedError(resetFromHeaders(headers), "primary", { cause: error });
      }
      const retryAfter = Number(header(headers, "retry-after"));
      if (
        Number.isFinite(retryAfter) ||
        /secondary rate limit|abuse/i.test(message) ||
        error.status === 429
      ) {
        const seconds = Number.isFinite(retryAfter) ? retryAfter : SECONDARY_LIMIT_DEFAULT_SECONDS;
        return new RateLimitedError(new Date(Date.now() + seconds * 1000), "secondary", { cause: error });
      }
      return new PermissionError(message, { cause: error });
    }
    if (error.status === 404 || error.status === 410) return new NotFoundError(message, { cause: error });
    return new ServerError(message, error.status, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ServerError(message, undefined, { cause: error });
}
