import type { Logger } from "pino";
import type { Probot } from "probot";
import { GitHubClient, type GitHubUsage } from "./client.js";

export type GitHubClientFactory = (installationId: number, log: Logger) => Promise<GitHubClient>;

/**
 * A client authenticated as one installation. Called once per job: Probot mints (or reuses from its
 * cache, within the token's hour) an installation token, so no job holds an expired one.
 */
export function createGitHubClientFactory(
  probot: Probot,
  now: () => Date,
  usageOf?: (installationId: number) => GitHubUsage,
): GitHubClientFactory {
  return async (installationId, log) => {
    const refreshToken = async () => {
      // The App's own Octokit shares Probot's token cache: a refreshed token replaces the cached one.
      const app = await probot.auth();
      await app.auth({ type: "installation", installationId, refresh: true });
    };
    return new GitHubClient(await probot.auth(installationId), log, now, {
      refreshToken,
      usage: usageOf?.(installationId),
    });
  };
}
