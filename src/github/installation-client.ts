import type { Logger } from "pino";
import type { Probot } from "probot";
import { GitHubClient, type GitHubUsage } from "./client.js";

export type GitHubClientFactory = (
  installationId: number,
  log: Logger,
  options?: { signal?: AbortSignal | undefined },
) => Promise<GitHubClient>;

/**
 * A client authenticated as one installation. Called once per job: Probot mints (or reuses from its
 * cache, within the token's hour) an installation token, so no job holds an expired one. A job
 * passes its attempt's signal, so nothing it asks of GitHub outlives the attempt.
 */
export function createGitHubClientFactory(
  probot: Probot,
  now: () => Date,
  usageOf?: (installationId: number) => GitHubUsage,
): GitHubClientFactory {
  return async (installationId, log, options = {}) => {
    const refreshToken = async () => {
      // The App's own Octokit shares Probot's token cache: a refreshed token replaces the cached one.
      const app = await probot.auth();
      await app.auth({ type: "installation", installationId, refresh: true });
    };
    // The token itself is minted at the first request, inside it: with its deadline and retries.
    return new GitHubClient(await probot.auth(installationId), log, now, {
      refreshToken,
      usage: usageOf?.(installationId),
      signal: options.signal,
    });
  };
}
