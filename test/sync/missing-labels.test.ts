import { afterAll, afterEach, beforeAll, expect, it } from "@jest/globals";
import nock from "nock";
import pino from "pino";
import { ProbotOctokit } from "probot";
import { GitHubClient } from "../../src/github/client.js";
import { lookUpPullRequestsById } from "../../src/sync/pull-requests.js";
import { GITHUB_API, gqlPullRequest } from "../support/github-nock.js";

// Which pull requests GitHub no longer has, as the labels step (src/sync/missing-labels.ts) tells
// them from those it could not answer for: only the first are recorded without labels for good.
// GitHub's partial answers to nodes(ids:), at the HTTP level (nock).

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});

const client = () =>
  new GitHubClient(
    new ProbotOctokit({
      auth: { token: "ghs_test" },
      throttle: { enabled: false },
      retry: { enabled: false },
    }),
    pino({ level: "silent" }),
  );
const rateLimit = {
  cost: 1,
  remaining: 4999,
  resetAt: new Date(Date.now() + 3600_000).toISOString(),
  limit: 5000,
};
const found = gqlPullRequest({ id: "PR_found", fullDatabaseId: "1" });

it.each([
  [
    "a NOT_FOUND about an id: gone",
    [null, found],
    [{ type: "NOT_FOUND", path: ["nodes", 0], message: "Could not resolve to a node" }],
    ["not_found", found],
  ],
  [
    "another error about an id: not answered, asked again",
    [null, found],
    [{ type: "FORBIDDEN", path: ["nodes", 0], message: "Resource not accessible by integration" }],
    [null, found],
  ],
  [
    "an error about the query besides: no object trusted, none gone",
    [null, found],
    [
      { type: "NOT_FOUND", path: ["nodes", 0], message: "Could not resolve to a node" },
      { type: "SERVICE_UNAVAILABLE", path: ["rateLimit"], message: "Something went wrong" },
    ],
    [null, null],
  ],
])("%s", async (_, nodes, errors, expected) => {
  nock(GITHUB_API)
    .post("/graphql", (body: { query: string }) => body.query.includes("query PullRequestsById("))
    .reply(200, { data: { rateLimit, nodes }, errors });
  const answers = await lookUpPullRequestsById({ client: client(), reservePercent: 10 }, [
    "PR_gone",
    "PR_found",
  ]);
  expect(answers).toEqual(expected);
});
