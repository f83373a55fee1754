import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "@jest/globals";
import nock from "nock";
import pino from "pino";
import { AttemptEndedError, ServerError, TimeoutError } from "../../src/errors.js";
import { createGitHubClientFactory } from "../../src/github/installation-client.js";
import { signInWithGitHub } from "../../src/github/oauth.js";
import { createProbot } from "../../src/github/probot.js";
import { testConfig } from "../support/app.js";
import { GITHUB_API, gqlPullRequest, mockInstallationToken } from "../support/github-nock.js";

// Every attempt at GitHub has a deadline (src/github/deadlines.ts), through Probot's Octokit as the
// jobs use it. GitHub is nock; a stalled request is one nock never answers (nock's delay() sends a
// late answer into the aborted request, which undici asserts on). Without deadlines these tests
// would wait for that answer until Jest gives up on them.

const DEADLINE_MS = 300;
const config = testConfig({
  GITHUB_REST_TIMEOUT_MS: String(DEADLINE_MS),
  GITHUB_GRAPHQL_TIMEOUT_MS: String(DEADLINE_MS),
});
const log = pino({ level: "silent" });
const INSTALLATION = 7;
const node = (title: string) => gqlPullRequest({ id: "PR_1", fullDatabaseId: "1", title });
const rateLimit = {
  cost: 1,
  remaining: 4999,
  resetAt: new Date(Date.now() + 3600_000).toISOString(),
  limit: 5000,
};
const answer = (title: string) => ({ data: { rateLimit, node: node(title) } });

/** A fresh Probot each time, so no token is cached from another test. */
function client(signal?: AbortSignal) {
  const probot = createProbot(config, config.app!, log);
  return createGitHubClientFactory(probot, () => new Date())(INSTALLATION, log, { signal });
}

const pullRequestQuery = () =>
  nock(GITHUB_API).post("/graphql", (body: { query: string }) => body.query.includes("query PullRequest("));
/** A reply that never comes: GitHub accepted the request and went quiet. */
const never = () => new Promise<[number]>(() => {});

let unmatched = 0;
const countUnmatched = () => unmatched++;
beforeAll(() => {
  nock.disableNetConnect();
  nock.emitter.on("no match", countUnmatched);
});
afterAll(() => {
  nock.emitter.removeListener("no match", countUnmatched);
  nock.enableNetConnect();
  nock.restore();
});
beforeEach(() => {
  unmatched = 0;
  nock.cleanAll();
});
afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  expect(unmatched).toBe(0);
});

it("abandons an answer that does not come within the deadline and retries it like a 502", async () => {
  mockInstallationToken(INSTALLATION);
  const stalled = pullRequestQuery().reply(never);
  const retried = pullRequestQuery().reply(200, answer("retried"));

  const data = await (await client()).graphql("pull-request", { id: "PR_1" });

  expect(data.node).toMatchObject({ title: "retried" });
  stalled.done();
  retried.done();
});

it("turns a request that missed its deadline on every attempt into a TimeoutError", async () => {
  mockInstallationToken(INSTALLATION);
  const stalled = pullRequestQuery().times(2).reply(never);

  // One retry (the page queries use none and shrink the page instead): two attempts, both late.
  const failure = await (
    await client()
  )
    .graphql("pull-request", { id: "PR_1" }, { retries: 1 })
    .catch((error: unknown) => error);

  expect(failure).toBeInstanceOf(TimeoutError);
  // No status, like a dropped connection: a page that timed out is asked for again smaller.
  expect(failure).toMatchObject({ status: undefined, code: "server" });
  expect((failure as Error).message).toMatch(`within ${DEADLINE_MS} ms`);
  stalled.done();
});

it("gives minting the installation token a deadline too", async () => {
  const stalled = nock(GITHUB_API).post(`/app/installations/${INSTALLATION}/access_tokens`).reply(never);
  const minted = nock(GITHUB_API)
    .post(`/app/installations/${INSTALLATION}/access_tokens`)
    .reply(201, { token: "ghs_retried", expires_at: new Date(Date.now() + 3600_000).toISOString() });
  const query = nock(GITHUB_API, { reqheaders: { authorization: "token ghs_retried" } })
    .post("/graphql")
    .reply(200, answer("with the retried token"));

  const data = await (await client()).graphql("pull-request", { id: "PR_1" });

  expect(data.node).toMatchObject({ title: "with the retried token" });
  stalled.done();
  minted.done();
  query.done();
});

it("stops a job attempt's calls at once when the attempt ends, without retrying them", async () => {
  mockInstallationToken(INSTALLATION);
  const attempt = new AbortController();
  const github = await client(attempt.signal);
  const stalled = pullRequestQuery()
    .reply(never)
    .on("request", () => attempt.abort());

  const failure = await github.graphql("pull-request", { id: "PR_1" }).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(AttemptEndedError);
  stalled.done();

  // And a call made after the end never reaches GitHub (an unmatched request would be counted).
  await expect(github.graphql("pull-request", { id: "PR_1" })).rejects.toBeInstanceOf(AttemptEndedError);
});

it("gives sign-in's calls a deadline too (one attempt: a user is waiting)", async () => {
  const stalled = nock("https://github.com").post("/login/oauth/access_token").reply(never);

  const failure = await signInWithGitHub(
    config,
    { clientId: "Iv1.test", clientSecret: "secret" },
    "code",
  ).catch((error: unknown) => error);

  expect(failure).toBeInstanceOf(ServerError);
  expect((failure as Error).message).toBe("GitHub token exchange failed (HTTP 500)");
  stalled.done();
});
