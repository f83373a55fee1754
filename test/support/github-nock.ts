import nock from "nock";
import type { GqlPullRequest, GqlReview } from "../../src/github/queries.js";

export const GITHUB_API = "https://api.github.com";

/**
 * The installation-token exchange Probot performs before installation requests. Optional: Probot
 * reuses a token for most of its hour, so later jobs of the same installation may not ask again.
 */
export function mockInstallationToken(installationId: number) {
  return nock(GITHUB_API)
    .post(`/app/installations/${installationId}/access_tokens`)
    .optionally()
    .reply(201, {
      token: `ghs_test_${installationId}`,
      expires_at: new Date(Date.now() + 3600_000).toISOString(),
      permissions: { pull_requests: "read", metadata: "read", members: "read" },
      repository_selection: "all",
    });
}

const rateLimit = {
  cost: 1,
  remaining: 4999,
  resetAt: new Date(Date.now() + 3600_000).toISOString(),
  limit: 5000,
};

/** Answers the "pull-request" query (by node id) with the given node. */
export function mockPullRequestQuery(node: GqlPullRequest | null) {
  return nock(GITHUB_API)
    .post(
      "/graphql",
      (body: { query: string; variables: { id: string } }) =>
        body.query.includes("query PullRequest(") && (!node || body.variables.id === node.id),
    )
    .reply(200, { data: { rateLimit, node } });
}

export function gqlReview(patch: Partial<GqlReview> & { id: number }): GqlReview {
  const { id, ...rest } = patch;
  return {
    fullDatabaseId: String(id),
    state: "APPROVED",
    submittedAt: "2019-05-15T16:00:00Z",
    author: { __typename: "User", login: "reviewer", databaseId: 777 },
    ...rest,
  };
}

/** A GraphQL PullRequest node, shaped like the PullRequestFields fragment returns it. */
export function gqlPullRequest(
  patch: Partial<GqlPullRequest> & { id: string; fullDatabaseId: string },
): GqlPullRequest {
  return {
    number: 2,
    title: "Update the README with new information.",
    body: "This is a pretty simple change that we need to pull into master.",
    state: "OPEN",
    isDraft: false,
    createdAt: "2019-05-15T15:20:33Z",
    updatedAt: "2019-05-15T15:20:33Z",
    closedAt: null,
    mergedAt: null,
    headRefName: "changes",
    baseRefName: "master",
    additions: 1,
    deletions: 1,
    changedFiles: 1,
    author: { __typename: "User", login: "Codertocat", databaseId: 21031067 },
    timelineItems: { nodes: [] },
    labels: { nodes: [] },
    reviews: { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] },
    commits: {
      totalCount: 1,
      pageInfo: { hasNextPage: false, endCursor: null },
      nodes: [
        {
          commit: {
            oid: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
            message: "Update README.md",
            authoredDate: "2019-05-15T15:19:00Z",
            committedDate: "2019-05-15T15:20:30Z",
            author: {
              email: "octocat@github.com",
              name: "Codertocat",
              user: { databaseId: 21031067, login: "Codertocat" },
            },
          },
        },
      ],
    },
    ...patch,
  };
}
