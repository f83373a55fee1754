import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type {
  ActorFieldsFragment,
  CommitFieldsFragment,
  OrganizationMembersQuery,
  OrganizationMembersQueryVariables,
  OrganizationTeamsQuery,
  OrganizationTeamsQueryVariables,
  PullRequestCommitsQuery,
  PullRequestCommitsQueryVariables,
  PullRequestFieldsFragment,
  PullRequestQuery,
  PullRequestQueryVariables,
  PullRequestReviewsQuery,
  PullRequestReviewsQueryVariables,
  PullRequestsByIdQuery,
  PullRequestsByIdQueryVariables,
  RateLimitFieldsFragment,
  RepositoriesChangedQuery,
  RepositoriesChangedQueryVariables,
  RepositoriesFirstPagesQuery,
  RepositoriesFirstPagesQueryVariables,
  RepositoriesNextPagesQuery,
  RepositoriesNextPagesQueryVariables,
  RepositoryPullRequestsQuery,
  RepositoryPullRequestsQueryVariables,
  RepositoryWindowSizesQuery,
  RepositoryWindowSizesQueryVariables,
  ReviewFieldsFragment,
  TeamFieldsFragment,
  TeamMemberConnectionFieldsFragment,
  TeamMembersQuery,
  TeamMembersQueryVariables,
} from "./generated/graphql.js";

/** The .graphql files beside this module (copied next to the build output by `npm run build`). */
export const queriesDir = path.join(path.dirname(fileURLToPath(import.meta.url)), "queries");

/**
 * Every query, by file name, with the result and variable types GraphQL Code Generator derived from
 * that file (`npm run codegen`). A query that does not match GitHub's schema fails codegen; a
 * selection that changes shape fails the type check wherever its result is read.
 */
export interface Queries {
  "repository-pull-requests": [RepositoryPullRequestsQuery, RepositoryPullRequestsQueryVariables];
  "pull-request": [PullRequestQuery, PullRequestQueryVariables];
  "pull-request-reviews": [PullRequestReviewsQuery, PullRequestReviewsQueryVariables];
  "pull-request-commits": [PullRequestCommitsQuery, PullRequestCommitsQueryVariables];
  "organization-members": [OrganizationMembersQuery, OrganizationMembersQueryVariables];
  "repositories-changed": [RepositoriesChangedQuery, RepositoriesChangedQueryVariables];
  "pull-requests-by-id": [PullRequestsByIdQuery, PullRequestsByIdQueryVariables];
  "organization-teams": [OrganizationTeamsQuery, OrganizationTeamsQueryVariables];
  "team-members": [TeamMembersQuery, TeamMembersQueryVariables];
  "repository-window-sizes": [RepositoryWindowSizesQuery, RepositoryWindowSizesQueryVariables];
  "repositories-first-pages": [RepositoriesFirstPagesQuery, RepositoriesFirstPagesQueryVariables];
  "repositories-next-pages": [RepositoriesNextPagesQuery, RepositoriesNextPagesQueryVariables];
}
export type QueryName = keyof Queries;
export type QueryResult<N extends QueryName> = Queries[N][0];
export type QueryVariables<N extends QueryName> = Queries[N][1];

const names: Record<QueryName, true> = {
  "repository-pull-requests": true,
  "pull-request": true,
  "pull-request-reviews": true,
  "pull-request-commits": true,
  "organization-members": true,
  "repositories-changed": true,
  "pull-requests-by-id": true,
  "organization-teams": true,
  "team-members": true,
  "repository-window-sizes": true,
  "repositories-first-pages": true,
  "repositories-next-pages": true,
};
export const queryNames = Object.keys(names) as QueryName[];

// The selections the sync code maps to rows.
export type GqlRateLimit = RateLimitFieldsFragment;
export type GqlActor = ActorFieldsFragment;
export type GqlReview = ReviewFieldsFragment;
export type GqlCommit = CommitFieldsFragment;
export type GqlPullRequest = PullRequestFieldsFragment;
export type GqlTeam = TeamFieldsFragment;
export type GqlTeamMembers = TeamMemberConnectionFieldsFragment;

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
