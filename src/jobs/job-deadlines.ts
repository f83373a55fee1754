import { ConfigError, type GitHubDeadlines } from "../config.js";
import { longestCallMs } from "../github/deadlines.js";
import { catalog, type QueueKey } from "../queue/catalog.js";
import { MAX_PAGE_ATTEMPTS } from "../sync/page-size.js";
import { SLICE_MS } from "./handlers/backfill-repo.js";

/**
 * Three clocks bound a job that calls GitHub, from the shortest:
 *
 * 1. each attempt of a request ends at its deadline (GITHUB_*_TIMEOUT_MS), and a call is retried
 *    a few times (src/github/deadlines.ts: longestCallMs);
 * 2. a backfill slice starts no page after SLICE_MS; the page in flight then finishes;
 * 3. the queue's expiry (expireInSeconds) ends the attempt whatever it is doing: pg-boss gives it
 *    up, its GitHub calls stop, its installation slot is freed (worker.ts, installation-slot.ts),
 *    and the retry resumes from what was committed.
 *
 * The expiry is the hard stop; this keeps ordinary work inside it, so that slow answers cost
 * retries, never an attempt cut off in the middle of the call it just started.
 */

/**
 * What a job's attempt may need once it calls GitHub: a token minted first (one REST attempt),
 * then the slowest call with its retries. A backfill slice adds its length and the page in flight
 * when it ends: the page query down the page-size ladder (no retries: a smaller page instead) and
 * one follow-up query for a long review or commit list.
 */
export function githubWorkMs(queue: QueueKey, deadlines: GitHubDeadlines): number {
  const token = deadlines.restMs;
  if (queue === "backfillRepo") {
    const page = MAX_PAGE_ATTEMPTS * deadlines.graphqlMs + longestCallMs(deadlines.graphqlMs);
    return SLICE_MS + token + page;
  }
  return token + longestCallMs(Math.max(deadlines.restMs, deadlines.graphqlMs));
}

/**
 * Refuses GitHub deadlines under which a GitHub-calling job could outlast its queue's expiry,
 * naming the variables to shorten.
 */
export function assertJobsOutlastDeadlines(deadlines: GitHubDeadlines): void {
  for (const [key, definition] of Object.entries(catalog) as [QueueKey, (typeof catalog)[QueueKey]][]) {
    if (!definition.installationGroup) continue;
    const expiryMs = definition.options.expireInSeconds * 1000;
    const neededMs = githubWorkMs(key, deadlines);
    if (neededMs > expiryMs) {
      throw new ConfigError(
        `GITHUB_REST_TIMEOUT_MS, GITHUB_GRAPHQL_TIMEOUT_MS: with these deadlines a "${definition.name}" job ` +
          `may need ${Math.ceil(neededMs / 1000)} s for GitHub, longer than its ${definition.options.expireInSeconds} s expiry; shorten them`,
      );
    }
  }
}
