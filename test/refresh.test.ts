import { beforeEach, describe, expect, it } from "@jest/globals";
import { asc } from "drizzle-orm";
import nock from "nock";
import * as schema from "../src/db/schema/index.js";
import { QUICK_JOBS } from "./support/app.js";
import { useTestApp } from "./support/harness.js";
import {
  GITHUB_API,
  gqlPullRequest,
  gqlReview,
  mockInstallationToken,
  mockPullRequestQuery,
} from "./support/github-nock.js";
import { webhookExample } from "./support/webhook-examples.js";

// The refresh a pull_request webhook queues: GitHub is mocked at the HTTP level (nock intercepts
// Probot's fetch), everything else is real.

// No test here looks at a debounced job: the weekly refresh runs at once, and every drain is quick.
const t = useTestApp({ env: QUICK_JOBS });

const opened = () => webhookExample<Record<string, any>>("pull_request", "opened");

// The installation and repository are known, so a delivery queues only its refresh (an unknown one
// would start the installation: test/events.test.ts).
beforeEach(async () => {
  const { repository } = opened();
  await t.database.db
    .insert(schema.installations)
    .values({ id: 1, accountId: 1, accountLogin: "Codertocat", accountType: "User" });
  await t.database.db.insert(schema.repositories).values({
    id: repository.id,
    nodeId: repository.node_id,
    installationId: 1,
    fullName: repository.full_name,
    private: repository.private,
    defaultBranch: repository.default_branch,
    tracked: true,
    syncStatus: "complete",
  });
});

it("fetches the commits and reviews a pull_request payload lacks, following long lists to the end", async () => {
  const payload = opened();
  const { id, node_id } = payload.pull_request;
  const reviews = Array.from({ length: 120 }, (_, i) =>
    gqlReview({
      id: 9000 + i,
      submittedAt: new Date(Date.UTC(2019, 4, 15, 17, i % 60)).toISOString(),
      author: { __typename: "User", login: `r${i}`, databaseId: 5000 + i },
    }),
  );
  const node = gqlPullRequest({
    id: node_id,
    fullDatabaseId: String(id),
    updatedAt: "2019-05-15T18:00:00Z",
    reviews: {
      totalCount: 120,
      pageInfo: { hasNextPage: true, endCursor: "r100" },
      nodes: reviews.slice(0, 100),
    },
  });
  node.commits.nodes![0]!.commit.message = 'Revert "x"\n\nThis reverts commit abc.';
  mockInstallationToken(1);
  const query = mockPullRequestQuery(node);
  const secondPage = nock(GITHUB_API)
    .post(
      "/graphql",
      (body: { query: string; variables: { after: string } }) =>
        body.query.includes("query PullRequestReviews(") && body.variables.after === "r100",
    )
    .reply(200, {
      data: {
        rateLimit: {
          cost: 1,
          remaining: 4990,
          resetAt: new Date(Date.now() + 3600_000).toISOString(),
          limit: 5000,
        },
        node: {
          reviews: {
            totalCount: 120,
            pageInfo: { hasNextPage: false, endCursor: "r120" },
            nodes: reviews.slice(100),
          },
        },
      },
    });

  expect((await t.app.deliver("pull_request", payload)).status).toBe(202);
  await t.app.drain();
  query.done();
  secondPage.done();

  const [pr] = await t.database.db.select().from(schema.pullRequests);
  expect(pr).toMatchObject({
    id,
    updatedAt: new Date("2019-05-15T18:00:00Z"),
    firstCommitAt: new Date("2019-05-15T15:19:00Z"),
    firstReviewAt: new Date("2019-05-15T17:00:00Z"),
    reviewTimeHours: 1.66,
    isRevert: true,
    commitsTruncated: false,
  });
  expect(pr!.detailsSyncedAt).toBeInstanceOf(Date);
  expect(await t.database.db.select().from(schema.reviews)).toHaveLength(120);
  const commits = await t.database.db.select().from(schema.commits).orderBy(asc(schema.commits.sha));
  expect(commits).toEqual([
    expect.objectContaining({
      sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
      authorId: 21031067,
      authorEmail: "octocat@github.com",
    }),
  ]);
});

it("records a commit list GitHub truncated, and drops commits force-pushed away", async () => {
  const payload = opened();
  const { id, node_id } = payload.pull_request;
  await t.database.db.insert(schema.commits).values({
    installationId: 1,
    pullRequestId: id,
    repoId: payload.repository.id,
    sha: "gone",
    message: "old",
  });
  const node = gqlPullRequest({ id: node_id, fullDatabaseId: String(id) });
  mockInstallationToken(1);
  mockPullRequestQuery(node);
  await t.app.deliver("pull_request", payload);
  await t.app.drain();
  expect((await t.database.db.select().from(schema.commits)).map((c) => c.sha)).toEqual([
    "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
  ]);

  const truncated = gqlPullRequest({
    id: node_id,
    fullDatabaseId: String(id),
    updatedAt: "2019-05-16T00:00:00Z",
  });
  truncated.commits.totalCount = 300;
  mockInstallationToken(1);
  mockPullRequestQuery(truncated);
  await t.app.deliver("pull_request", { ...payload, action: "synchronize" });
  await t.app.drain();
  const [pr] = await t.database.db.select().from(schema.pullRequests);
  expect(pr).toMatchObject({ commitsTruncated: true, commitsCount: 300 });
});

it("rides out transient GitHub server errors (Octokit's retry plugin)", async () => {
  const payload = opened();
  mockInstallationToken(1);
  nock(GITHUB_API).post("/graphql").times(2).reply(502, "Bad Gateway");
  mockPullRequestQuery(
    gqlPullRequest({ id: payload.pull_request.node_id, fullDatabaseId: String(payload.pull_request.id) }),
  );
  await t.app.deliver("pull_request", payload);
  await t.app.drain(undefined, 60_000);
  expect(await t.database.db.select().from(schema.commits)).toHaveLength(1);
}, 90_000);

describe("a bot's login", () => {
  // GitHub's REST API and webhooks say `dependabot[bot]`, its GraphQL Bot actor `dependabot`.
  const DEPENDABOT = { id: 49699333, login: "dependabot[bot]", type: "Bot" };
  const ACTIONS = { id: 41898282, login: "github-actions[bot]", type: "Bot" };
  const botPayload = (action: string, updatedAt: string) => {
    const payload = opened();
    payload.action = action;
    payload.pull_request = { ...payload.pull_request, user: DEPENDABOT, updated_at: updatedAt };
    return payload;
  };
  const botNode = (payload: Record<string, any>, updatedAt: string) =>
    gqlPullRequest({
      id: payload.pull_request.node_id,
      fullDatabaseId: String(payload.pull_request.id),
      updatedAt,
      author: { __typename: "Bot", login: "dependabot", databaseId: DEPENDABOT.id },
      reviews: {
        totalCount: 1,
        pageInfo: { hasNextPage: false, endCursor: null },
        nodes: [
          gqlReview({
            id: 9100,
            author: { __typename: "Bot", login: "github-actions", databaseId: ACTIONS.id },
          }),
        ],
      },
    });
  const stored = async () => ({
    authors: (await t.database.sql`select author_login from pull_requests`).map((row) => row.author_login),
    reviewers: (await t.database.sql`select reviewer_login from reviews`).map((row) => row.reviewer_login),
  });

  it("is spelled as GitHub shows it, by webhook and then by GraphQL", async () => {
    const payload = botPayload("opened", "2019-05-15T15:20:33Z");
    mockInstallationToken(1);
    mockPullRequestQuery(botNode(payload, "2019-05-15T18:00:00Z"));
    await t.app.deliver("pull_request", payload);
    await t.app.drain();

    // The refresh (GraphQL, newer) replaced the webhook's row: the same spelling.
    expect(await stored()).toEqual({ authors: ["dependabot[bot]"], reviewers: ["github-actions[bot]"] });
    const [pr] = await t.database.db.select().from(schema.pullRequests);
    expect(pr).toMatchObject({ updatedAt: new Date("2019-05-15T18:00:00Z"), authorType: "Bot" });
    // A bot's review is still no first review.
    expect(pr!.firstReviewAt).toBeNull();
  });

  it("keeps that spelling when webhooks follow what GraphQL stored", async () => {
    const payload = botPayload("opened", "2019-05-15T15:20:33Z");
    mockInstallationToken(1);
    mockPullRequestQuery(botNode(payload, "2019-05-15T18:00:00Z"));
    await t.app.deliver("pull_request", payload);
    await t.app.drain();

    // Later events: the webhook's newer row replaces the GraphQL one, the review arrives by webhook
    // (each queues a refresh, which asks GraphQL again).
    const edited = botPayload("edited", "2019-05-15T19:00:00Z");
    mockPullRequestQuery(botNode(edited, "2019-05-15T19:00:00Z"));
    await t.app.deliver("pull_request", edited);
    await t.app.drain();
    const review = webhookExample<Record<string, any>>("pull_request_review", "submitted");
    review.pull_request = { ...review.pull_request, ...edited.pull_request };
    review.review = { ...review.review, id: 9100, user: ACTIONS, submitted_at: "2019-05-15T16:00:00Z" };
    mockPullRequestQuery(botNode(edited, "2019-05-15T19:00:00Z"));
    await t.app.deliver("pull_request_review", review);
    await t.app.drain();

    expect(await stored()).toEqual({ authors: ["dependabot[bot]"], reviewers: ["github-actions[bot]"] });
  });
});
