import type { request as octokitRequest } from "@octokit/request";
import Bottleneck from "bottleneck";
import type { Logger } from "pino";
import { Probot, ProbotOctokit } from "probot";
import type { Config, GitHubAppCredentials } from "../config.js";
import { createDeadlineFetch, REQUEST_RETRIES } from "./deadlines.js";

// A secondary (abuse) limit is retried once after GitHub's retry-after; after that the error reaches
// the job, which reschedules itself with backoff instead of holding a worker asleep.
const SECONDARY_LIMIT_RETRIES = 1;

/**
 * Probot's Octokit already carries @octokit/plugin-throttling and @octokit/plugin-retry; this tunes
 * them for a sync engine. A primary rate limit is never slept through inside a request: the error
 * surfaces as RateLimitedError and the job is rescheduled for the reset time.
 */
export const PulseOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  ...withEnterpriseTokenRequests(options),
  retry: { ...(options.retry as object | undefined), retries: REQUEST_RETRIES },
  throttle: {
    ...(options.throttle as object | undefined),
    onRateLimit: (retryAfter: number, request: { method: string; url: string }, octokit: ProbotOctokit) => {
      octokit.log.warn(
        `GitHub rate limit reached on ${request.method} ${request.url} (reset in ${retryAfter}s)`,
      );
      return false;
    },
    onSecondaryRateLimit: (
      retryAfter: number,
      request: { method: string; url: string; request: { retryCount: number } },
      octokit: ProbotOctokit,
    ) => {
      octokit.log.warn(
        `GitHub secondary rate limit on ${request.method} ${request.url} (retry after ${retryAfter}s)`,
      );
      return request.request.retryCount < SECONDARY_LIMIT_RETRIES;
    },
  },
})) as typeof ProbotOctokit;

/**
 * Probot hands the App's auth strategy a request function without GHES's base URL. Tokens minted
 * inside a request get the right one, but a token minted directly (the refresh after a 401, see
 * installation-client.ts) would be asked of api.github.com.
 */
function withEnterpriseTokenRequests(options: Record<string, unknown>): Record<string, unknown> {
  const auth = options.auth as { request?: typeof octokitRequest } | undefined;
  if (typeof options.baseUrl !== "string" || !auth?.request) return {};
  return { auth: { ...auth, request: auth.request.defaults({ baseUrl: options.baseUrl }) } };
}

/**
 * Probot with PulseOctokit. Its `request.fetch` gives every attempt a deadline, and Probot hands
 * the same fetch to the App's auth, so minting an installation token has one too.
 */
export function createProbot(config: Config, credentials: GitHubAppCredentials, log: Logger): Probot {
  return new Probot({
    appId: credentials.appId,
    privateKey: credentials.privateKey,
    secret: credentials.webhookSecret,
    ...(config.github.enterprise ? { baseUrl: config.github.apiUrl } : {}),
    Octokit: withWritePacing(config.github.writeIntervalMs),
    request: { fetch: createDeadlineFetch(config.github.deadlines) },
    log: log.child({ name: "probot" }),
  });
}

/**
 * PulseOctokit whose GraphQL queries and REST writes of one installation are `intervalMs` apart:
 * plugin-throttling's own "write" limiter (one at a time, a second apart), with the spacing from
 * GITHUB_WRITE_INTERVAL_MS. Tests shorten it; every page of a backfill waited the second otherwise.
 */
function withWritePacing(intervalMs: number): typeof ProbotOctokit {
  const write = new Bottleneck.Group({ maxConcurrent: 1, minTime: intervalMs });
  return PulseOctokit.defaults((options: Record<string, unknown>) => ({
    ...options,
    throttle: { ...(options.throttle as object | undefined), write },
  })) as typeof ProbotOctokit;
}
