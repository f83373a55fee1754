import pino, { type Logger } from "pino";
import { ProbotOctokit } from "probot";
import { GitHubClient } from "../../src/github/client.js";
import type { FakeGitHub } from "./fake-github/index.js";

/**
 * The App's GitHub client for one installation of the fake GitHub, for tests that call a sync step
 * without a job. It does not pace itself (Octokit's throttle is what spaces an installation's
 * queries a second apart): tests count the fake's queries and points, not the seconds.
 */
export function fakeGitHubClient(
  github: FakeGitHub,
  installationId: number,
  log: Logger = pino({ level: "silent" }),
): GitHubClient {
  const octokit = new ProbotOctokit({
    auth: { token: github.world.issueToken(installationId).token },
    baseUrl: github.urls.api,
    throttle: { enabled: false },
    retry: { enabled: false },
  });
  return new GitHubClient(octokit, log);
}
