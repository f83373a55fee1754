import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The .graphql files beside this module (copied next to the build output by `npm run build`). */
export const queriesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "queries");

export const queryNames = [
  "repository-pull-requests",
  "pull-request",
  "pull-request-reviews",
  "pull-request-commits",
  "organization-members",
] as const;
export type QueryName = (typeof queryNames)[number];

const cache = new Map<QueryName, string>();

function parseFragments(source: string): Map<string, string> {
  const fragments = new Map<string, string>();
  for (const match of source.matchAll(/^fragment (\w+) on \w+ \{[\s\S]*?^\}/gm)) {
    fragments.set(match[1]!, match[0]);
  }
  return fragments;
}

/** A query's text plus exactly the fragments it uses (GitHub rejects unused fragments). */
export function loadQuery(name: QueryName): string {
  const cached = cache.get(name);
  if (cached) return cached;
  const fragments = parseFragments(readFileSync(path.join(queriesDir, "fragments.graphql"), "utf8"));
  const query = readFileSync(path.join(queriesDir, `${name}.graphql`), "utf8");
  const used = new Set<string>();
  const pending = [query];
  while (pending.length > 0) {
    for (const match of pending.pop()!.matchAll(/\.\.\.(\w+)/g)) {
      const fragment = fragments.get(match[1]!);
      if (fragment && !used.has(match[1]!)) {
        used.add(match[1]!);
        pending.push(fragment);
      }
    }
  }
  const text = [query, ...[...used].map((fragmentName) => fragments.get(fragmentName)!)].join("\n");
  cache.set(name, text);
  return text;
}

// Result shapes of the selections above.

export interface GqlRateLimit {
  cost: number;
  remaining: number;
  resetAt: string;
  limit: number;
}

export interface GqlPageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface GqlConnection<T> {
  totalCount: number;
  pageInfo: GqlPageInfo;
  nodes: (T | null)[];
}

export interface GqlActor {
  __typename: string;
  login: string;
  databaseId?: number | null;
}

export interface GqlReview {
  fullDatabaseId: string | null;
  state: "PENDING" | "COMMENTED" | "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED";
  submittedAt: string | null;
  author: GqlActor | null;
}

export interface GqlCommit {
  oid: string;
  message: string;
  authoredDate: string | null;
  committedDate: string | null;
  author: {
    email: string | null;
    name: string | null;
    user: { databaseId: number | null; login: string } | null;
  } | null;
}

export interface GqlPullRequest {
  id: string;
  fullDatabaseId: string | null;
  number: number;
  title: string;
  body: string | null;
  state: "OPEN" | "CLOSED" | "MERGED";
  isDraft: boolean;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  headRefName: string;
  baseRefName: string;
  additions: number;
  deletions: number;
  changedFiles: number;
  author: GqlActor | null;
  timelineItems: { nodes: ({ createdAt?: string } | null)[] };
  reviews: GqlConnection<GqlReview>;
  commits: GqlConnection<{ commit: GqlCommit }>;
}

export interface RepositoryPullRequestsResult {
  rateLimit: GqlRateLimit | null;
  node: { databaseId: number; pullRequests: GqlConnection<GqlPullRequest> } | null;
}

export interface PullRequestResult {
  rateLimit: GqlRateLimit | null;
  node: GqlPullRequest | null;
}

export interface PullRequestReviewsResult {
  rateLimit: GqlRateLimit | null;
  node: { reviews: GqlConnection<GqlReview> } | null;
}

export interface PullRequestCommitsResult {
  rateLimit: GqlRateLimit | null;
  node: { commits: GqlConnection<{ commit: GqlCommit }> } | null;
}

export interface OrganizationMembersResult {
  rateLimit: GqlRateLimit | null;
  organization: {
    membersWithRole: GqlConnection<{
      databaseId: number | null;
      login: string;
      name: string | null;
      email: string | null;
    }>;
  } | null;
}
