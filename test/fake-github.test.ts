import { createHash, createHmac } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  World,
  buildWebhook,
  deliverWebhook,
  fakeAppJwt,
  startFakeGitHub,
} from "./support/fake-github/index.js";
import { waitFor } from "./support/wait.js";
import type {
  FakeGitHub,
  FakeGitHubOptions,
  Installation,
  Repo,
  WebhookActions,
  WebhookEvent,
} from "./support/fake-github/index.js";

const APP_ID = 4242;

interface Harness {
  fake: FakeGitHub;
  installation: Installation;
  repos: Repo[];
  token: string;
  rest(path: string, init?: RequestInit): Promise<Response>;
  graphql(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{ response: Response; body: GraphqlBody }>;
}

interface GraphqlBody {
  data?: Record<string, unknown> | null;
  errors?: { type?: string; message: string }[];
}

async function exchangeToken(fake: FakeGitHub, installationId: number, appId = APP_ID): Promise<Response> {
  return fetch(`${fake.url}/api/v3/app/installations/${installationId}/access_tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${fakeAppJwt(appId)}`, accept: "application/vnd.github+json" },
  });
}

async function startHarness(
  options: FakeGitHubOptions = {},
  seedOptions = { repos: 2, prsPerRepo: 30 },
): Promise<Harness> {
  const fake = await startFakeGitHub({ seed: 7, ...options });
  const { installation, repos } = fake.world.seedOrg({
    login: "acme",
    appId: APP_ID,
    longLists: true,
    ...seedOptions,
  });
  const { token } = (await (await exchangeToken(fake, installation.id)).json()) as { token: string };
  const auth = { authorization: `token ${token}` };
  return {
    fake,
    installation,
    repos,
    token,
    rest: (path, init = {}) =>
      fetch(`${fake.url}/api/v3${path}`, { ...init, headers: { ...auth, ...init.headers } }),
    graphql: async (query, variables = {}) => {
      const response = await fetch(`${fake.url}/api/graphql`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      return { response, body: (await response.json()) as GraphqlBody };
    },
  };
}

/** Follows rel="next" links and returns every item. */
async function allPages(h: Harness, firstPath: string): Promise<{ items: unknown[]; pages: number }> {
  const items: unknown[] = [];
  let url: string | undefined = `${h.fake.url}/api/v3${firstPath}`;
  let pages = 0;
  while (url !== undefined) {
    const response: Response = await fetch(url, { headers: { authorization: `token ${h.token}` } });
    expect(response.status).toBe(200);
    items.push(...((await response.json()) as unknown[]));
    pages++;
    url = /<([^>]+)>; rel="next"/.exec(response.headers.get("link") ?? "")?.[1];
  }
  return { items, pages };
}

describe("fake GitHub", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.fake.close();
  });

  describe("app authentication", () => {
    it("exchanges an app JWT for an installation token", async () => {
      const response = await exchangeToken(h.fake, h.installation.id);
      expect(response.status).toBe(201);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body["token"]).toMatch(/^ghs_[A-Za-z0-9_-]{36}$/);
      expect(Date.parse(String(body["expires_at"]))).toBeGreaterThan(Date.now() + 50 * 60_000);
      expect(body["repository_selection"]).toBe("all");
    });

    it("rejects a JWT whose issuer is not a known app", async () => {
      const response = await exchangeToken(h.fake, h.installation.id, 999);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        message: "A JSON web token could not be decoded",
        documentation_url: expect.any(String),
      });
    });

    it("serves the installation to the app and refuses tokens for suspended ones", async () => {
      const response = await fetch(`${h.fake.url}/app/installations/${h.installation.id}`, {
        headers: { authorization: `Bearer ${fakeAppJwt(APP_ID)}` },
      });
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        id: h.installation.id,
        account: { login: "acme", type: "Organization" },
        suspended_at: null,
      });

      const other = h.fake.world.addInstallation({
        accountLogin: "suspended-co",
        appId: APP_ID,
        suspended: true,
      });
      expect((await exchangeToken(h.fake, other.id)).status).toBe(403);
    });

    it("answers 401 Bad credentials for unknown tokens", async () => {
      const response = await fetch(`${h.fake.url}/api/v3/repos/acme/api`, {
        headers: { authorization: "token ghs_nope" },
      });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { message: string }).message).toBe("Bad credentials");
    });
  });

  describe("REST", () => {
    it("serves a pull request in GitHub's shape, with and without the /api/v3 prefix", async () => {
      const pr = h.fake.world.listPullRequests(h.repos[0]!.id)[2]!;
      const withPrefix = (await (await h.rest(`/repos/acme/api/pulls/${pr.number}`)).json()) as Record<
        string,
        unknown
      >;
      const bare = await fetch(`${h.fake.url}/repos/acme/api/pulls/${pr.number}`, {
        headers: { authorization: `token ${h.token}` },
      });
      expect(bare.status).toBe(200);
      expect(withPrefix).toMatchObject({
        id: pr.id,
        node_id: pr.nodeId,
        number: pr.number,
        state: pr.state === "OPEN" ? "open" : "closed",
        merged: pr.state === "MERGED",
        merged_at: pr.mergedAt,
        draft: pr.isDraft,
        additions: pr.additions,
        deletions: pr.deletions,
        changed_files: pr.changedFiles,
        commits: pr.commits.length,
        head: { ref: pr.headRef },
        base: { ref: pr.baseRef },
        user: { id: pr.authorId, login: expect.any(String), type: expect.stringMatching(/^(User|Bot)$/) },
      });
    });

    it("paginates pull requests with Link headers and rate-limit headers", async () => {
      const first = await h.rest("/repos/acme/api/pulls?state=all&sort=updated&direction=desc&per_page=7");
      expect(first.headers.get("link")).toMatch(/page=2>; rel="next".*page=5>; rel="last"/);
      expect(first.headers.get("x-ratelimit-resource")).toBe("core");
      expect(Number(first.headers.get("x-ratelimit-remaining"))).toBeLessThan(5000);
      const { items, pages } = await allPages(
        h,
        "/repos/acme/api/pulls?state=all&sort=updated&direction=desc&per_page=7",
      );
      expect(pages).toBe(5);
      const updated = (items as { updated_at: string }[]).map((p) => p.updated_at);
      expect(updated).toEqual([...updated].sort().reverse());
      expect(new Set((items as { id: number }[]).map((p) => p.id)).size).toBe(30);
    });

    it("lists reviews without PENDING ones and commits capped at 250", async () => {
      const [longReviews, longCommits] = h.fake.world.listPullRequests(h.repos[0]!.id);
      const reviews = await allPages(h, `/repos/acme/api/pulls/${longReviews!.number}/reviews?per_page=100`);
      const visible = longReviews!.reviews.filter((r) => r.state !== "PENDING");
      expect(reviews.items).toHaveLength(visible.length);
      expect(reviews.items[0]).toMatchObject({
        id: visible[0]!.id,
        node_id: visible[0]!.nodeId,
        state: visible[0]!.state,
      });

      const commits = await allPages(h, `/repos/acme/api/pulls/${longCommits!.number}/commits?per_page=100`);
      expect(longCommits!.commits).toHaveLength(300);
      expect(commits.items).toHaveLength(250);
      const c = longCommits!.commits[0]!;
      expect(commits.items[0]).toMatchObject({
        sha: c.sha,
        commit: {
          message: c.message,
          author: { name: c.authorName, email: c.authorEmail, date: c.authoredDate },
        },
        author: c.authorUserId === null ? null : { id: c.authorUserId },
      });
    });

    it("hides repositories outside the installation and unknown routes with 404", async () => {
      const stranger = h.fake.world.addInstallation({ accountLogin: "other-co", appId: APP_ID });
      h.fake.world.addRepo(stranger.id, { name: "secret" });
      expect((await h.rest("/repos/other-co/secret")).status).toBe(404);
      const unknown = await h.rest("/repos/acme/api/frobnicate");
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { message: string }).message).toBe("Not Found");
    });
  });

  describe("GraphQL", () => {
    it("validates queries against GitHub's schema", async () => {
      const { response, body } = await h.graphql('{ repository(owner: "acme", name: "api") { nope } }');
      expect(response.status).toBe(200);
      expect(body.data).toBeUndefined();
      expect(body.errors?.[0]?.message).toBe("Field 'nope' doesn't exist on type 'Repository'");

      const missing = await h.graphql(
        '{ repository(owner: "acme", name: "api") { pullRequests { totalCount } } }',
      );
      expect(missing.body.errors?.[0]).toMatchObject({ type: "MISSING_PAGINATION_BOUNDARIES" });
      const tooMany = await h.graphql(
        '{ repository(owner: "acme", name: "api") { pullRequests(first: 101) { totalCount } } }',
      );
      expect(tooMany.body.errors?.[0]?.message).toBe(
        "Requesting 101 records on the `pullRequests` connection exceeds the `first` limit of 100 records.",
      );
    });

    it("resolves a repository's pull requests with authors, reviews and commits", async () => {
      const { body } = await h.graphql(
        `query ($owner: String!, $name: String!) {
          repository(owner: $owner, name: $name) {
            databaseId nameWithOwner defaultBranchRef { name }
            pullRequests(first: 10, orderBy: { field: CREATED_AT, direction: ASC }) {
              totalCount
              pageInfo { hasNextPage endCursor }
              nodes {
                number fullDatabaseId state merged
                author { __typename login ... on User { databaseId } ... on Bot { databaseId } }
                reviews(first: 5) { totalCount }
                commits(first: 5) { totalCount nodes { commit { oid author { email user { databaseId } } } } }
              }
            }
          }
        }`,
        { owner: "acme", name: "api" },
      );
      expect(body.errors).toBeUndefined();
      const repo = body.data?.["repository"] as {
        databaseId: number;
        pullRequests: {
          totalCount: number;
          pageInfo: { hasNextPage: boolean };
          nodes: { number: number; fullDatabaseId: string }[];
        };
      };
      expect(repo.databaseId).toBe(h.repos[0]!.id);
      expect(repo.pullRequests.totalCount).toBe(30);
      expect(repo.pullRequests.pageInfo.hasNextPage).toBe(true);
      expect(repo.pullRequests.nodes.map((n) => n.number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(repo.pullRequests.nodes[0]!.fullDatabaseId).toBe(
        String(h.fake.world.listPullRequests(h.repos[0]!.id)[0]!.id),
      );
    });

    it("pages a PR's reviews past 100 and caps commits at 250 with the real totalCount", async () => {
      const [longReviews, longCommits] = h.fake.world.listPullRequests(h.repos[0]!.id);
      const reviewsQuery = `query ($id: ID!, $after: String) { node(id: $id) { ... on PullRequest {
        reviews(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { fullDatabaseId } } } } }`;
      const reviewIds: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const { body } = await h.graphql(reviewsQuery, { id: longReviews!.nodeId, after });
        const reviews = (
          body.data?.["node"] as {
            reviews: {
              pageInfo: { hasNextPage: boolean; endCursor: string };
              nodes: { fullDatabaseId: string }[];
            };
          }
        ).reviews;
        reviewIds.push(...reviews.nodes.map((n) => n.fullDatabaseId));
        after = reviews.pageInfo.hasNextPage ? reviews.pageInfo.endCursor : null;
        pages++;
      } while (after !== null);
      expect(pages).toBe(2);
      const visible = longReviews!.reviews.filter((r) => r.state !== "PENDING");
      expect(visible.length).toBeGreaterThan(100);
      expect(reviewIds).toEqual(visible.map((r) => String(r.id)));

      const commitsQuery = `query ($id: ID!, $after: String) { node(id: $id) { ... on PullRequest {
        commits(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { commit { oid } } } } } }`;
      const oids: string[] = [];
      let totalCount: number;
      after = null;
      do {
        const { body } = await h.graphql(commitsQuery, { id: longCommits!.nodeId, after });
        const commits = (
          body.data?.["node"] as {
            commits: {
              totalCount: number;
              pageInfo: { hasNextPage: boolean; endCursor: string };
              nodes: { commit: { oid: string } }[];
            };
          }
        ).commits;
        totalCount = commits.totalCount;
        oids.push(...commits.nodes.map((n) => n.commit.oid));
        after = commits.pageInfo.hasNextPage ? commits.pageInfo.endCursor : null;
      } while (after !== null);
      expect(totalCount).toBe(300);
      expect(oids).toHaveLength(250);
    });

    it.each([
      // 1 request for pullRequests + 50 for reviews = 51 → 0.51 → 1 point
      ["pullRequests(first: 50) { nodes { reviews(first: 100) { nodes { state } } } }", 1, 50 + 50 * 100],
      // 1 + 100 + 100 = 201 → 2.01 → 2 points
      [
        "pullRequests(first: 100) { nodes { reviews(first: 100) { totalCount } commits(first: 100) { totalCount } } }",
        2,
        100 + 2 * 100 * 100,
      ],
      // 1 + 100 + 100 + 100 + 100 = 401 → 4 points
      [
        "pullRequests(first: 100) { nodes { reviews(first: 100) { totalCount } commits(first: 100) { totalCount } " +
          "timelineItems(first: 100) { totalCount } a: reviews(last: 100) { totalCount } } }",
        4,
        100 + 4 * 100 * 100,
      ],
    ])("charges GitHub's cost for %s", async (selection, cost, nodeCount) => {
      const before = h.fake.stats.snapshot().graphqlPoints;
      const { response, body } = await h.graphql(
        `{ rateLimit { cost remaining used nodeCount } repository(owner: "acme", name: "web") { ${selection} } }`,
      );
      expect(body.errors).toBeUndefined();
      const rateLimit = body.data?.["rateLimit"] as {
        cost: number;
        remaining: number;
        used: number;
        nodeCount: number;
      };
      expect(rateLimit.cost).toBe(cost);
      expect(rateLimit.nodeCount).toBe(nodeCount);
      expect(rateLimit.remaining).toBe(5000 - rateLimit.used);
      expect(response.headers.get("x-ratelimit-resource")).toBe("graphql");
      expect(Number(response.headers.get("x-ratelimit-remaining"))).toBe(rateLimit.remaining);
      expect(h.fake.stats.snapshot().graphqlPoints - before).toBe(cost);
    });

    it.each([
      // One pullRequests connection per repository, nothing nested: 100 requests, 1 point.
      ["pullRequests(first: 10) { nodes { updatedAt } }", 1, 100 * 10],
      // 100 + 100 × 10 reviews connections = 1,100 requests, 11 points.
      [
        "pullRequests(first: 10) { nodes { reviews(first: 100) { totalCount } } }",
        11,
        100 * 10 + 100 * 10 * 100,
      ],
    ])(
      "charges each of nodes(ids:)'s 100 objects its own requests: %s",
      async (selection, cost, nodeCount) => {
        const ids = Array.from({ length: 100 }, (_, i) => h.repos[i % 2]!.nodeId);
        const { body } = await h.graphql(
          `query ($ids: [ID!]!) { rateLimit { cost nodeCount } nodes(ids: $ids) { ... on Repository { ${selection} } } }`,
          { ids },
        );
        expect(body.errors).toBeUndefined();
        expect(body.data?.["rateLimit"]).toEqual({ cost, nodeCount });
        expect(body.data?.["nodes"]).toHaveLength(100);
      },
    );

    it("refuses more than 100 node ids, and answers an unknown id with null and NOT_FOUND at its index", async () => {
      const ids = Array.from({ length: 101 }, () => h.repos[0]!.nodeId);
      const tooMany = await h.graphql("query ($ids: [ID!]!) { nodes(ids: $ids) { id } }", { ids });
      expect(tooMany.body.data).toBeUndefined();
      expect(tooMany.body.errors?.[0]).toMatchObject({
        type: "ARGUMENT_LIMIT",
        message: "You may not provide more than 100 node ids; you provided 101.",
      });

      const gone = "R_kgDOgone";
      const { body } = await h.graphql("query ($ids: [ID!]!) { nodes(ids: $ids) { id } }", {
        ids: [h.repos[0]!.nodeId, gone, h.repos[1]!.nodeId],
      });
      expect(body.data?.["nodes"]).toEqual([{ id: h.repos[0]!.nodeId }, null, { id: h.repos[1]!.nodeId }]);
      expect(body.errors).toEqual([
        expect.objectContaining({
          type: "NOT_FOUND",
          path: ["nodes", 1],
          message: `Could not resolve to a node with the global id of '${gone}'`,
        }),
      ]);
    });

    it("rejects queries over GitHub's 500,000 node limit", async () => {
      const { body } = await h.graphql(
        '{ repository(owner: "acme", name: "api") { pullRequests(first: 100) { nodes { reviews(first: 100) { nodes { comments(first: 100) { totalCount } } } } } } }',
      );
      expect(body.errors?.[0]).toMatchObject({
        type: "MAX_NODE_LIMIT_EXCEEDED",
        message: expect.stringContaining("exceeds the maximum limit of 500,000"),
      });
    });
  });

  describe("faults", () => {
    it("fails the next matching requests, then recovers", async () => {
      h.fake.faults.set({ failNext: { count: 2, status: 502, match: "/pulls/1" } });
      expect((await h.rest("/repos/acme/api/pulls/1")).status).toBe(502);
      expect((await h.rest("/repos/acme/api")).status).toBe(200); // does not match
      const second = await h.rest("/repos/acme/api/pulls/1");
      expect(second.status).toBe(502);
      expect(second.headers.get("content-type")).toMatch(/text\/html/);
      expect((await h.rest("/repos/acme/api/pulls/1")).status).toBe(200);

      h.fake.faults.set({ failNext: { count: 1, status: 500, match: "RepoQuery" } });
      const { response } = await h.graphql(
        'query RepoQuery { repository(owner: "acme", name: "api") { id } }',
      );
      expect(response.status).toBe(500);
      h.fake.faults.clear();
    });

    it("answers secondary rate limits with retry-after, but still hands out tokens", async () => {
      h.fake.faults.set({ secondaryLimitRate: 1 });
      h.fake.faults.retryAfterSeconds = 7;
      const response = await h.rest("/repos/acme/api/pulls");
      expect(response.status).toBe(403);
      expect(response.headers.get("retry-after")).toBe("7");
      expect(((await response.json()) as { message: string }).message).toMatch(/secondary rate limit/);
      expect((await exchangeToken(h.fake, h.installation.id)).status).toBe(201);
      h.fake.faults.clear();
    });

    it("times out GraphQL answers with too many nodes, like GitHub on big pages", async () => {
      h.fake.faults.set({ maxNodesBeforeTimeout: 5, timeoutPerNodeMs: 1 });
      const query =
        '{ repository(owner: "acme", name: "api") { pullRequests(first: NUMBER) { nodes { number } } } }';
      const big = await h.graphql(query.replace("NUMBER", "10"));
      expect(big.response.status).toBe(502);
      expect(big.body.errors?.[0]?.message).toMatch(/may be the result of a timeout/);
      expect((await h.graphql(query.replace("NUMBER", "5"))).response.status).toBe(200);
      h.fake.faults.clear();
    });

    it("hangs: takes a request and never answers, or stops halfway through the body", async () => {
      h.fake.faults.set({ hangRate: 1 });
      const unanswered = new AbortController();
      const request = h.rest("/repos/acme/api", { signal: unanswered.signal });
      await waitFor(() => h.fake.faults.hanging === 1, { what: "the request to hang" });
      unanswered.abort();
      await expect(request).rejects.toThrow();
      await waitFor(() => h.fake.faults.hanging === 0, { what: "the server to let the request go" });
      // Token exchange is never held up.
      expect((await exchangeToken(h.fake, h.installation.id)).status).toBe(201);

      h.fake.faults.set({ hangRate: undefined, stallBodyRate: 1 });
      const stalled = new AbortController();
      const response = await h.rest("/repos/acme/api", { signal: stalled.signal });
      expect(response.status).toBe(200);
      const body = response.text();
      await waitFor(() => h.fake.faults.hanging === 1, { what: "the body to stall" });
      stalled.abort();
      await expect(body).rejects.toThrow();
      await waitFor(() => h.fake.faults.hanging === 0, { what: "the server to let the request go" });
      expect(h.fake.faults.hangs).toBe(2);
      h.fake.faults.clear();
    });

    it("is deterministic for a given seed", async () => {
      const run = async (): Promise<number[]> => {
        const fake = await startFakeGitHub({ seed: 99 });
        const { installation } = fake.world.seedOrg({
          login: "acme",
          repos: 1,
          prsPerRepo: 1,
          appId: APP_ID,
        });
        const { token } = (await (await exchangeToken(fake, installation.id)).json()) as { token: string };
        fake.faults.set({ serverErrorRate: 0.5 });
        const statuses: number[] = [];
        for (let i = 0; i < 20; i++) {
          const response = await fetch(`${fake.url}/repos/acme/api`, {
            headers: { authorization: `token ${token}` },
          });
          statuses.push(response.status);
        }
        await fake.close();
        return statuses;
      };
      const first = await run();
      expect(first).toContain(502);
      expect(first).toContain(200);
      expect(await run()).toEqual(first);
    });
  });

  describe("webhooks", () => {
    const received: { headers: Record<string, string | string[] | undefined>; body: Buffer }[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(202).end("accepted");
      });
    });
    beforeAll(() => new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve)));
    afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

    it("delivers a signed pull_request event shaped like GitHub's", async () => {
      const pr = h.fake.world.listPullRequests(h.repos[1]!.id)[0]!;
      const hook = buildWebhook(h.fake.world, "pull_request", "opened", { prId: pr.id }, h.fake.urls);
      const { port } = receiver.address() as AddressInfo;
      const secret = "s3cret";
      const result = await deliverWebhook({
        url: `http://127.0.0.1:${port}/api/github/webhooks`,
        secret,
        ...hook,
      });
      expect(result).toEqual({ status: 202, body: "accepted" });

      const delivery = received.at(-1)!;
      const expected = `sha256=${createHmac("sha256", secret).update(delivery.body).digest("hex")}`;
      expect(delivery.headers["x-hub-signature-256"]).toBe(expected);
      expect(delivery.headers["x-github-event"]).toBe("pull_request");
      expect(delivery.headers["x-github-delivery"]).toBe(hook.id);
      expect(hook.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const payload = JSON.parse(delivery.body.toString("utf8")) as Record<string, unknown>;
      expect(payload).toMatchObject({
        action: "opened",
        number: pr.number,
        pull_request: { id: pr.id, node_id: pr.nodeId, head: { ref: pr.headRef }, user: { id: pr.authorId } },
        repository: { id: h.repos[1]!.id, full_name: "acme/web" },
        organization: { login: "acme" },
        installation: { id: h.installation.id, node_id: expect.any(String) },
        sender: { login: expect.any(String) },
      });
    });

    it("builds review events with lower-case states", () => {
      const pr = h.fake.world.listPullRequests(h.repos[1]!.id)[1]!;
      const review = h.fake.world.addReview(pr.id, {
        authorId: h.fake.world.users.keys().next().value!,
        state: "CHANGES_REQUESTED",
      });
      const hook = buildWebhook(h.fake.world, "pull_request_review", "submitted", {
        prId: pr.id,
        reviewId: review.id,
      });
      expect(hook.payload["review"]).toMatchObject({
        id: review.id,
        state: "changes_requested",
        submitted_at: review.submittedAt,
      });
    });

    const cases: { event: WebhookEvent; action: WebhookActions[WebhookEvent] }[] = [
      { event: "installation", action: "created" },
      { event: "installation", action: "deleted" },
      { event: "installation", action: "suspend" },
      { event: "installation", action: "unsuspend" },
      { event: "installation", action: "new_permissions_accepted" },
      { event: "installation_repositories", action: "added" },
      { event: "installation_repositories", action: "removed" },
      { event: "repository", action: "renamed" },
      { event: "repository", action: "transferred" },
      { event: "repository", action: "archived" },
      { event: "repository", action: "unarchived" },
      { event: "repository", action: "deleted" },
      { event: "organization", action: "member_added" },
      { event: "organization", action: "member_removed" },
      { event: "pull_request", action: "edited" },
      { event: "pull_request", action: "closed" },
      { event: "pull_request", action: "reopened" },
      { event: "pull_request", action: "synchronize" },
      { event: "pull_request", action: "ready_for_review" },
      { event: "pull_request", action: "converted_to_draft" },
      { event: "pull_request_review", action: "edited" },
      { event: "pull_request_review", action: "dismissed" },
    ];
    it.each(cases)("builds $event.$action from the world", ({ event, action }) => {
      const world = h.fake.world;
      const repo = h.repos[1]!;
      const pr = world.listPullRequests(repo.id)[2]!;
      const review = world.addReview(pr.id, { authorId: pr.authorId, state: "COMMENTED" });
      const member = world.getAccount("acme")!.memberIds[0]!;
      const hook = buildWebhook(world, event, action, {
        installationId: h.installation.id,
        repoId: repo.id,
        repoIds: [repo.id],
        prId: pr.id,
        reviewId: review.id,
        userId: member,
      });
      expect(hook.name).toBe(event);
      expect(hook.payload["action"]).toBe(action);
      expect(hook.payload["installation"]).toMatchObject({ id: h.installation.id });
      expect(hook.payload["sender"]).toMatchObject({ login: expect.any(String) });
    });
  });
});

describe("fake GitHub rate limits", () => {
  it("exhausts the GraphQL and core buckets like GitHub", async () => {
    const h = await startHarness(
      { rateLimit: { limit: 3, windowSeconds: 3600 } },
      { repos: 1, prsPerRepo: 3 },
    );
    try {
      const query = '{ repository(owner: "acme", name: "api") { pullRequests(first: 1) { totalCount } } }';
      for (let i = 0; i < 3; i++) expect((await h.graphql(query)).body.errors).toBeUndefined();
      const { response, body } = await h.graphql(query);
      expect(response.status).toBe(200);
      expect(body.errors).toEqual([
        {
          type: "RATE_LIMITED",
          message: `API rate limit exceeded for installation ID ${h.installation.id}.`,
        },
      ]);
      expect(response.headers.get("x-ratelimit-remaining")).toBe("0");

      for (let i = 0; i < 3; i++) expect((await h.rest("/repos/acme/api")).status).toBe(200);
      const limited = await h.rest("/repos/acme/api");
      expect(limited.status).toBe(403);
      expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
      expect(((await limited.json()) as { message: string }).message).toBe(
        `API rate limit exceeded for installation ID ${h.installation.id}.`,
      );
      // GET /rate_limit is free, and still answers when exhausted.
      expect((await h.rest("/rate_limit")).status).toBe(200);
    } finally {
      await h.fake.close();
    }
  });

  it("behaves like GHES with rate limiting disabled", async () => {
    const h = await startHarness({ sendRateLimitHeaders: false }, { repos: 1, prsPerRepo: 3 });
    try {
      const response = await h.rest("/repos/acme/api");
      expect(response.status).toBe(200);
      expect(response.headers.get("x-ratelimit-remaining")).toBeNull();
      const { body } = await h.graphql("{ rateLimit { cost remaining } }");
      expect(body).toEqual({ data: { rateLimit: null } });
      expect((await h.rest("/rate_limit")).status).toBe(404);
    } finally {
      await h.fake.close();
    }
  });

  it("adds latency per node returned", async () => {
    const h = await startHarness({ latency: { baseMs: 20, perNodeMs: 5 } }, { repos: 1, prsPerRepo: 10 });
    try {
      const started = performance.now();
      await h.rest("/repos/acme/api/pulls?state=all&per_page=10");
      // 20 ms base + 10 pull requests × 5 ms
      expect(performance.now() - started).toBeGreaterThanOrEqual(65);
    } finally {
      await h.fake.close();
    }
  });
});

describe("seeding", () => {
  /** A digest of everything the org's seed produced: any difference between two worlds shows. */
  const digest = (seed: number): { prs: number; sha: string } => {
    const world = new World({ seed });
    world.setNow("2025-06-01T00:00:00Z");
    const { repos } = world.seedOrg({ login: "bigco", repos: 50, prsPerRepo: 100 });
    const hash = createHash("sha256");
    for (const repo of repos) hash.update(JSON.stringify(world.listPullRequests(repo.id)));
    return { prs: world.pullRequests.size, sha: hash.digest("hex") };
  };

  // The benches seed 100,000 pull requests and report how long it takes; here, that a seed is
  // reproducible and a different seed gives a different org.
  it("seeds an org deterministically: the same seed, the same world", () => {
    const first = digest(2024);
    expect(first.prs).toBe(5_000);
    expect(digest(2024).sha).toBe(first.sha);
    expect(digest(2025).sha).not.toBe(first.sha);
  });

  it("generates the realistic mix the app's metrics care about", () => {
    const world = new World({ seed: 3 });
    const { repos, members } = world.seedOrg({ login: "mixco", repos: 3, prsPerRepo: 400, longLists: true });
    const prs = repos.flatMap((r) => [...world.listPullRequests(r.id)]);
    const share = (predicate: (pr: (typeof prs)[number]) => boolean): number =>
      prs.filter(predicate).length / prs.length;
    expect(share((pr) => pr.state === "MERGED")).toBeGreaterThan(0.55);
    expect(share((pr) => pr.isDraft)).toBeGreaterThan(0);
    expect(share((pr) => pr.readyForReviewAt !== null)).toBeGreaterThan(0);
    expect(
      prs.some((pr) => /^Revert "/.test(pr.title) && /^This reverts commit [0-9a-f]{40}/.test(pr.body)),
    ).toBe(true);
    expect(prs.some((pr) => pr.headRef.startsWith("hotfix/"))).toBe(true);
    expect(prs.some((pr) => world.getUser(pr.authorId)?.type === "Bot")).toBe(true);
    const reviews = prs.flatMap((pr) => pr.reviews.map((r) => ({ pr, r })));
    expect(reviews.some(({ pr, r }) => r.authorId === pr.authorId)).toBe(true);
    expect(reviews.some(({ r }) => r.state === "PENDING" && r.submittedAt === null)).toBe(true);
    expect(reviews.some(({ r }) => world.getUser(r.authorId)?.type === "Bot")).toBe(true);
    const emails = new Set(members.map((m) => m.email));
    expect(
      prs.some((pr) => pr.commits.some((c) => c.authorUserId === null && emails.has(c.authorEmail))),
    ).toBe(true);
    expect(prs[0]!.reviews).toHaveLength(120);
    expect(prs[1]!.commits).toHaveLength(300);
  });
});
