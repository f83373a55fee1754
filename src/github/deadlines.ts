import { request } from "@octokit/request";
import { Agent } from "undici";
import type { GitHubDeadlines } from "../config.js";
import { TimeoutError } from "../errors.js";

/**
 * The retries @octokit/plugin-retry gives a failed request (5xx, a deadline, a dropped
 * connection), each after (n + 1)² seconds. Set in probot.ts; job expiries are checked against it.
 */
export const REQUEST_RETRIES = 3;

/**
 * The longest one call can take with every retry: each attempt ends at its deadline, and
 * plugin-retry waits (n + 1)² seconds before retry n + 1.
 */
export function longestCallMs(attemptMs: number, retries = REQUEST_RETRIES): number {
  let total = attemptMs;
  for (let retry = 0; retry < retries; retry++) total += (retry + 1) ** 2 * 1000 + attemptMs;
  return total;
}

/** Statuses whose answer has no body; the Response constructor refuses one for them. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * A fetch for Octokit (`request.fetch`) that gives every attempt its own deadline: the connect
 * deadline through an undici Agent, the response deadline (connect, headers and the whole body) with
 * a timer per call. plugin-retry calls fetch again for each attempt, so a retry gets a fresh one.
 *
 * A missed deadline rejects with TimeoutError, which Octokit wraps as a status-500 RequestError:
 * retried like a 502, then mapped back to TimeoutError by client.ts. A caller's own signal (the
 * job attempt's) rejects with an AbortError instead, which plugin-retry leaves alone: an attempt
 * that is over must not retry.
 */
export function createDeadlineFetch(deadlines: GitHubDeadlines): typeof fetch {
  // One Agent for every request of the Probot it is given to: connections are reused as by Node's
  // default dispatcher. undici's own types and those of Node's fetch differ in details; the Agent
  // is the dispatcher Node 22's fetch calls (every test that reaches the fake GitHub uses it).
  const dispatcher = new Agent({
    connect: { timeout: deadlines.connectMs },
  }) as unknown as RequestInit["dispatcher"];
  return async (input, init) => {
    const url = requestUrl(input);
    const deadlineMs = isGraphqlUrl(url) ? deadlines.graphqlMs : deadlines.restMs;
    const attempt = new AbortController();
    const timer = setTimeout(() => {
      // The path only: a query string may hold a cursor, and errors are logged and stored.
      attempt.abort(new TimeoutError(`GitHub gave no answer to ${url.pathname} within ${deadlineMs} ms`));
    }, deadlineMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, attempt.signal]) : attempt.signal;
    try {
      // globalThis.fetch looked up per call: nock replaces it in tests.
      const response = await globalThis.fetch(input, { ...init, signal, dispatcher });
      // Read inside the deadline: headers sent and a body that never ends are no answer either.
      return withBody(response, await response.arrayBuffer());
    } catch (error) {
      if (init?.signal?.aborted) throw new RequestAbortedError("the job attempt ended");
      if (attempt.signal.aborted) throw attempt.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * @octokit/request with the deadlines, for what asks GitHub outside Probot (sign-in, registering
 * the App): one attempt each, so a missed deadline is a status-500 RequestError.
 */
export function requestWithDeadlines(deadlines: GitHubDeadlines): typeof request {
  return request.defaults({ request: { fetch: createDeadlineFetch(deadlines) } });
}

/** Octokit passes an error named AbortError on as it is, and plugin-retry does not retry it. */
class RequestAbortedError extends Error {
  override name = "AbortError";
}

function requestUrl(input: string | URL | Request): URL {
  return new URL(input instanceof Request ? input.url : input);
}

/** GitHub.com's /graphql and GHES's /api/graphql. */
function isGraphqlUrl(url: URL): boolean {
  return url.pathname.endsWith("/graphql");
}

function withBody(response: Response, body: ArrayBuffer): Response {
  const copy = new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  // Octokit reports the URL it got the answer from (after redirects).
  Object.defineProperty(copy, "url", { value: response.url });
  return copy;
}
