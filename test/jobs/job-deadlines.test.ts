import { describe, expect, it } from "@jest/globals";
import { ConfigError, loadConfig } from "../../src/config.js";
import { longestCallMs } from "../../src/github/deadlines.js";
import { assertJobsOutlastDeadlines, githubWorkMs } from "../../src/jobs/job-deadlines.js";
import { catalog } from "../../src/queue/catalog.js";

// GitHub deadlines (README "Configuration"), and how they bound the jobs that call GitHub.

describe("GitHub deadlines", () => {
  it("default to 10 s to connect, 30 s for a REST answer, 60 s for a GraphQL answer", () => {
    expect(loadConfig({}).github.deadlines).toEqual({ connectMs: 10_000, restMs: 30_000, graphqlMs: 60_000 });
  });

  it.each([
    ["GITHUB_CONNECT_TIMEOUT_MS", "0", "must be at least 100 ms"],
    ["GITHUB_REST_TIMEOUT_MS", "30s", "must be a non-negative integer"],
    ["GITHUB_GRAPHQL_TIMEOUT_MS", "600000", "must be at most 120000 ms"],
  ])("%s=%s is refused with a message that names it", (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(`${name}: ${message}`);
  });

  it("count every attempt of a call and plugin-retry's waits between them", () => {
    // 4 attempts of 2 s, and 1 s, 4 s, 9 s before the three retries.
    expect(longestCallMs(2000)).toBe(4 * 2000 + 14_000);
    expect(longestCallMs(2000, 0)).toBe(2000);
  });
});

describe("job expiries against GitHub deadlines", () => {
  const deadlines = (env: Record<string, string>) => loadConfig(env).github.deadlines;

  it("leave every GitHub-calling job room for its work with the default deadlines", () => {
    expect(() => assertJobsOutlastDeadlines(deadlines({}))).not.toThrow();
    // The backfill: its 20 s slice, a token, a page down to its smallest size, one follow-up query.
    expect(githubWorkMs("backfillRepo", deadlines({}))).toBe(20_000 + 30_000 + 6 * 60_000 + 254_000);
    expect(githubWorkMs("backfillRepo", deadlines({}))).toBeLessThanOrEqual(
      catalog.backfillRepo.options.expireInSeconds * 1000,
    );
  });

  it.each([
    [{ GITHUB_GRAPHQL_TIMEOUT_MS: "120000" }, "backfill"],
    [{ GITHUB_REST_TIMEOUT_MS: "120000", GITHUB_GRAPHQL_TIMEOUT_MS: "20000" }, "refresh-pull-request"],
  ])("refuse deadlines a job could outlast its expiry with (%j)", (env, queue) => {
    expect(() => assertJobsOutlastDeadlines(deadlines(env))).toThrow(ConfigError);
    expect(() => assertJobsOutlastDeadlines(deadlines(env))).toThrow(
      new RegExp(`GITHUB_REST_TIMEOUT_MS, GITHUB_GRAPHQL_TIMEOUT_MS: .*"${queue}" job`),
    );
  });
});
