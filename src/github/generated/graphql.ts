/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** Properties by which issue connections can be ordered. */
export type IssueOrderField =
  /** Order issues by comment count */
  | 'COMMENTS'
  /** Order issues by creation time */
  | 'CREATED_AT'
  /** Order issues by update time */
  | 'UPDATED_AT';

/** The possible states of a pull request review. */
export type PullRequestReviewState =
  /** A review allowing the pull request to merge. */
  | 'APPROVED'
  /** A review blocking the pull request from merging. */
  | 'CHANGES_REQUESTED'
  /** An informational review. */
  | 'COMMENTED'
  /** A review that has been dismissed. */
  | 'DISMISSED'
  /** A review that has not yet been submitted. */
  | 'PENDING';

/** The possible states of a pull request. */
export type PullRequestState =
  /** A pull request that has been closed without being merged. */
  | 'CLOSED'
  /** A pull request that has been closed by being merged. */
  | 'MERGED'
  /** A pull request that is still open. */
  | 'OPEN';

type ActorFields_Bot_Fragment = { __typename: 'Bot', databaseId: number | null, login: string };

type ActorFields_EnterpriseUserAccount_Fragment = { __typename: 'EnterpriseUserAccount', login: string };

type ActorFields_Mannequin_Fragment = { __typename: 'Mannequin', databaseId: number | null, login: string };

type ActorFields_Organization_Fragment = { __typename: 'Organization', login: string };

type ActorFields_User_Fragment = { __typename: 'User', databaseId: number | null, login: string };

export type ActorFieldsFragment =
  | ActorFields_Bot_Fragment
  | ActorFields_EnterpriseUserAccount_Fragment
  | ActorFields_Mannequin_Fragment
  | ActorFields_Organization_Fragment
  | ActorFields_User_Fragment
;

export type RateLimitFieldsFragment = { cost: number, remaining: number, resetAt: string, limit: number };

export type ReviewConnectionFieldsFragment = { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ fullDatabaseId: string | null, state: PullRequestReviewState, submittedAt: string | null, author:
      | { __typename: 'Bot', databaseId: number | null, login: string }
      | { __typename: 'EnterpriseUserAccount', login: string }
      | { __typename: 'Mannequin', databaseId: number | null, login: string }
      | { __typename: 'Organization', login: string }
      | { __typename: 'User', databaseId: number | null, login: string }
     | null } | null> | null };

export type CommitConnectionFieldsFragment = { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ commit: { oid: string, message: string, authoredDate: string, committedDate: string, author: { email: string | null, name: string | null, user: { databaseId: number | null, login: string } | null } | null } } | null> | null };

export type ReviewFieldsFragment = { fullDatabaseId: string | null, state: PullRequestReviewState, submittedAt: string | null, author:
    | { __typename: 'Bot', databaseId: number | null, login: string }
    | { __typename: 'EnterpriseUserAccount', login: string }
    | { __typename: 'Mannequin', databaseId: number | null, login: string }
    | { __typename: 'Organization', login: string }
    | { __typename: 'User', databaseId: number | null, login: string }
   | null };

export type CommitFieldsFragment = { oid: string, message: string, authoredDate: string, committedDate: string, author: { email: string | null, name: string | null, user: { databaseId: number | null, login: string } | null } | null };

export type PullRequestFieldsFragment = { id: string, fullDatabaseId: string | null, number: number, title: string, body: string, state: PullRequestState, isDraft: boolean, createdAt: string, updatedAt: string, closedAt: string | null, mergedAt: string | null, headRefName: string, baseRefName: string, additions: number, deletions: number, changedFiles: number, author:
    | { __typename: 'Bot', databaseId: number | null, login: string }
    | { __typename: 'EnterpriseUserAccount', login: string }
    | { __typename: 'Mannequin', databaseId: number | null, login: string }
    | { __typename: 'Organization', login: string }
    | { __typename: 'User', databaseId: number | null, login: string }
   | null, timelineItems: { nodes: Array<
      | { createdAt: string }
      | Record<PropertyKey, never>
     | null> | null }, reviews: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ fullDatabaseId: string | null, state: PullRequestReviewState, submittedAt: string | null, author:
        | { __typename: 'Bot', databaseId: number | null, login: string }
        | { __typename: 'EnterpriseUserAccount', login: string }
        | { __typename: 'Mannequin', databaseId: number | null, login: string }
        | { __typename: 'Organization', login: string }
        | { __typename: 'User', databaseId: number | null, login: string }
       | null } | null> | null } | null, commits: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ commit: { oid: string, message: string, authoredDate: string, committedDate: string, author: { email: string | null, name: string | null, user: { databaseId: number | null, login: string } | null } | null } } | null> | null }, labels: { nodes: Array<{ name: string } | null> | null } | null };

export type PullRequestPageFieldsFragment = { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, fullDatabaseId: string | null, number: number, title: string, body: string, state: PullRequestState, isDraft: boolean, createdAt: string, updatedAt: string, closedAt: string | null, mergedAt: string | null, headRefName: string, baseRefName: string, additions: number, deletions: number, changedFiles: number, author:
      | { __typename: 'Bot', databaseId: number | null, login: string }
      | { __typename: 'EnterpriseUserAccount', login: string }
      | { __typename: 'Mannequin', databaseId: number | null, login: string }
      | { __typename: 'Organization', login: string }
      | { __typename: 'User', databaseId: number | null, login: string }
     | null, timelineItems: { nodes: Array<
        | { createdAt: string }
        | Record<PropertyKey, never>
       | null> | null }, reviews: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ fullDatabaseId: string | null, state: PullRequestReviewState, submittedAt: string | null, author:
          | { __typename: 'Bot', databaseId: number | null, login: string }
          | { __typename: 'EnterpriseUserAccount', login: string }
          | { __typename: 'Mannequin', databaseId: number | null, login: string }
          | { __typename: 'Organization', login: string }
          | { __typename: 'User', databaseId: number | null, login: string }
         | null } | null> | null } | null, commits: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ commit: { oid: string, message: string, authoredDate: string, committedDate: string, author: { email: string | null, name: string | null, user: { databaseId: number | null, login: string } | null } | null } } | null> | null }, labels: { nodes: Array<{ name: string } | null> | null } | null } | null> | null };

export type TeamFieldsFragment = { id: string, databaseId: number | null, slug: string, name: string, description: string | null, parentTeam: { databaseId: number | null } | null };

export type TeamMemberConnectionFieldsFragment = { pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ databaseId: number | null, login: string } | null> | null };

export type OrganizationMembersQueryVariables = Exact<{
  login: string;
  after: string | null | undefined;
}>;


export type OrganizationMembersQuery = { rateLimit: { cost: number, remaining: number, resetAt: string, limit: number } | null, organization: { membersWithRole: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ databaseId: number | null, login: string, name: string | null, email: string } | null> | null } } | null };

export type OrganizationTeamsQueryVariables = Exact<{
  login: string;
  after: string | null | undefined;
}>;


export type OrganizationTeamsQuery = { rateLimit: { cost: number, remaining: number, resetAt: string, limit: number } | null, organization: { teams: { pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, databaseId: number | null, slug: string, name: string, description: string | null, members: { pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ databaseId: number | null, login: string } | null> | null }, parentTeam: { databaseId: number | null } | null } | null> | null } } | null };

export type PullRequestCommitsQueryVariables = Exact<{
  id: string | number;
  after: string | null | undefined;
}>;


export type PullRequestCommitsQuery = { rateLimit: { cost: number, remaining: number, resetAt: string, limit: number } | null, node:
    | { commits: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ commit: { oid: string, message: string, authoredDate: string, committedDate: string, author: { email: string | null, name: string | null, user: { databaseId: number | null, login: string } | null } | null } } | null> | null } }
    | Record<PropertyKey, never>
   | null };

export type PullRequestReviewsQueryVariables = Exact<{
  id: string | number;
  after: string | null | undefined;
}>;


export type PullRequestReviewsQuery = { rateLimit: { cost: number, remaining: number, resetAt: string, limit: number } | null, node:
    | { reviews: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ fullDatabaseId: string | null, state: PullRequestReviewState, submittedAt: string | null, author:
            | { __typename: 'Bot', databaseId: number | null, login: string }
            | { __typename: 'EnterpriseUserAccount', login: string }
            | { __typename: 'Mannequin', databaseId: number | null, login: string }
            | { __typename: 'Organization', login: string }
            | { __typename: 'User', databaseId: number | null, login: string }
           | null } | null> | null } | null }
    | Record<PropertyKey, never>
   | null };

export type PullRequestQueryVariables = Exact<{
  id: string | number;
}>;


export type PullRequestQuery = { rateLimit: { cost: number, remaining: number, resetAt: string, limit: number } | null, node:
    | { id: string, fullDatabaseId: string | null, number: number, title: string, body: string, state: PullRequestState, isDraft: boolean, createdAt: string, updatedAt: string, closedAt: string | null, mergedAt: string | null, headRefName: string, baseRefName: string, additions: number, deletions: number, changedFiles: number, author:
        | { __typename: 'Bot', databaseId: number | null, login: string }
        | { __typename: 'EnterpriseUserAccount', login: string }
        | { __typename: 'Mannequin', databaseId: number | null, login: string }
        | { __typename: 'Organization', login: string }
        | { __typename: 'User', databaseId: number | null, login: string }
       | null, timelineItems: { nodes: Array<
          | { createdAt: string }
          | Record<PropertyKey, never>
         | null> | null }, reviews: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ fullDatabaseId: string | null, state: PullRequestReviewState, submittedAt: string | null, author:
            | { __typename: 'Bot', databaseId: number | null, login: string }
            | { __typename: 'EnterpriseUserAccount', login: string }
            | { __typename: 'Mannequin', databaseId: number | null, login: string }
            | { __typename: 'Organization', login: string }
            | { __typename: 'User', databaseId: number | null, login: string }
           | null } | null> | null } | null, commits: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ commit: { oid: string, message: string, authoredDate: string, committedDate: string, author: { email: string | null, name: string | null, user: { databaseId: number | null, login: string } | null } | null } } | null> | null }, labels: { nodes: Array<{ name: string } | null> | null } | null }
    | Record<PropertyKey, never>
   | null };

export type PullRequestsByIdQueryVariables = Exact<{
  ids: Array<string | number> | string | number;
}>;


export type PullRequestsByIdQuery = { rateLimit: { cost: number, remaining: number, resetAt: string, limit: number } | null, nodes: Array<
    | { id: string, fullDatabaseId: string | null, number: number, title: string, body: string, state: PullRequestState, isDraft: boolean, createdAt: string, updatedAt: string, closedAt: string | null, mergedAt: string | null, headRefName: string, baseRefName: string, additions: number, deletions: number, changedFiles: number, author:
        | { __typename: 'Bot', databaseId: number | null, login: string }
        | { __typename: 'EnterpriseUserAccount', login: string }
        | { __typename: 'Mannequin', databaseId: number | null, login: string }
        | { __typename: 'Organization', login: string }
        | { __typename: 'User', databaseId: number | null, login: string }
       | null, timelineItems: { nodes: Array<
          | { createdAt: string }
          | Record<PropertyKey, never>
         | null> | null }, reviews: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ fullDatabaseId: string | null, state: PullRequestReviewState, submittedAt: string | null, author:
            | { __typename: 'Bot', databaseId: number | null, login: string }
            | { __typename: 'EnterpriseUserAccount', login: string }
            | { __typename: 'Mannequin', databaseId: number | null, login: string }
            | { __typename: 'Organization', login: string }
            | { __typename: 'User', databaseId: number | null, login: string }
           | null } | null> | null } | null, commits: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ commit: { oid: string, message: string, authoredDate: string, committedDate: string, author: { email: string | null, name: string | null, user: { databaseId: number | null, login: string } | null } | null } } | null> | null }, labels: { nodes: Array<{ name: string } | null> | null } | null }
    | Record<PropertyKey, never>
   | null> };

export type RepositoriesChangedQueryVariables = Exact<{
  ids: Array<string | number> | string | number;
  first: number;
}>;


export type RepositoriesChangedQuery = { rateLimit: { cost: number, remaining: number, resetAt: string, limit: number } | null, nodes: Array<
    | { id: string, pullRequests: { nodes: Array<{ id: string, updatedAt: string } | null> | null } }
    | Record<PropertyKey, never>
   | null> };

export type RepositoriesFirstPagesQueryVariables = Exact<{
  ids: Array<string | number> | string | number;
  first: number;
}>;


export type RepositoriesFirstPagesQuery = { rateLimit: { cost: number, remaining: number, resetAt: string, limit: number } | null, nodes: Array<
    | { id: string, pullRequests: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, fullDatabaseId: string | null, number: number, title: string, body: string, state: PullRequestState, isDraft: boolean, createdAt: string, updatedAt: string, closedAt: string | null, mergedAt: string | null, headRefName: string, baseRefName: string, additions: number, deletions: number, changedFiles: number, author:
            | { __typename: 'Bot', databaseId: number | null, login: string }
            | { __typename: 'EnterpriseUserAccount', login: string }
            | { __typename: 'Mannequin', databaseId: number | null, login: string }
            | { __typename: 'Organization', login: string }
            | { __typename: 'User', databaseId: number | null, login: string }
           | null, timelineItems: { nodes: Array<
              | { createdAt: string }
              | Record<PropertyKey, never>
             | null> | null }, reviews: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ fullDatabaseId: string | null, state: PullRequestReviewState, submittedAt: string | null, author:
                | { __typename: 'Bot', databaseId: number | null, login: string }
                | { __typename: 'EnterpriseUserAccount', login: string }
                | { __typename: 'Mannequin', databaseId: number | null, login: string }
                | { __typename: 'Organization', login: string }
                | { __typename: 'User', databaseId: number | null, login: string }
               | null } | null> | null } | null, commits: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ commit: { oid: string, message: string, authoredDate: string, committedDate: string, author: { email: string | null, name: string | null, user: { databaseId: number | null, login: string } | null } | null } } | null> | null }, labels: { nodes: Array<{ name: string } | null> | null } | null } | null> | null } }
    | Record<PropertyKey, never>
   | null> };

export type RepositoriesNextPagesQueryVariables = Exact<{
  a: string | number;
  aFirst: number;
  aAfter: string;
  b: string | number;
  bFirst: number;
  bAfter: string;
}>;


export type RepositoriesNextPagesQuery = { rateLimit: { cost: number, remaining: number, resetAt: string, limit: number } | null, a:
    | { pullRequests: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, fullDatabaseId: string | null, number: number, title: string, body: string, state: PullRequestState, isDraft: boolean, createdAt: string, updatedAt: string, closedAt: string | null, mergedAt: string | null, headRefName: string, baseRefName: string, additions: number, deletions: number, changedFiles: number, author:
            | { __typename: 'Bot', databaseId: number | null, login: string }
            | { __typename: 'EnterpriseUserAccount', login: string }
            | { __typename: 'Mannequin', databaseId: number | null, login: string }
            | { __typename: 'Organization', login: string }
            | { __typename: 'User', databaseId: number | null, login: string }
           | null, timelineItems: { nodes: Array<
              | { createdAt: string }
              | Record<PropertyKey, never>
             | null> | null }, reviews: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ fullDatabaseId: string | null, state: PullRequestReviewState, submittedAt: string | null, author:
                | { __typename: 'Bot', databaseId: number | null, login: string }
                | { __typename: 'EnterpriseUserAccount', login: string }
                | { __typename: 'Mannequin', databaseId: number | null, login: string }
                | { __typename: 'Organization', login: string }
                | { __typename: 'User', databaseId: number | null, login: string }
               | null } | null> | null } | null, commits: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ commit: { oid: string, message: string, authoredDate: string, committedDate: string, author: { email: string | null, name: string | null, user: { databaseId: number | null, login: string } | null } | null } } | null> | null }, labels: { nodes: Array<{ name: string } | null> | null } | null } | null> | null } }
    | Record<PropertyKey, never>
   | null, b:
    | { pullRequests: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, fullDatabaseId: string | null, number: number, title: string, body: string, state: PullRequestState, isDraft: boolean, createdAt: string, updatedAt: string, closedAt: string | null, mergedAt: string | null, headRefName: string, baseRefName: string, additions: number, deletions: number, changedFiles: number, author:
            | { __typename: 'Bot', databaseId: number | null, login: string }
            | { __typename: 'EnterpriseUserAccount', login: string }
            | { __typename: 'Mannequin', databaseId: number | null, login: string }
            | { __typename: 'Organization', login: string }
            | { __typename: 'User', databaseId: number | null, login: string }
           | null, timelineItems: { nodes: Array<
              | { createdAt: string }
              | Record<PropertyKey, never>
             | null> | null }, reviews: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ fullDatabaseId: string | null, state: PullRequestReviewState, submittedAt: string | null, author:
                | { __typename: 'Bot', databaseId: number | null, login: string }
                | { __typename: 'EnterpriseUserAccount', login: string }
                | { __typename: 'Mannequin', databaseId: number | null, login: string }
                | { __typename: 'Organization', login: string }
                | { __typename: 'User', databaseId: number | null, login: string }
               | null } | null> | null } | null, commits: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ commit: { oid: string, message: string, authoredDate: string, committedDate: string, author: { email: string | null, name: string | null, user: { databaseId: number | null, login: string } | null } | null } } | null> | null }, labels: { nodes: Array<{ name: string } | null> | null } | null } | null> | null } }
    | Record<PropertyKey, never>
   | null };

export type RepositoryPullRequestsQueryVariables = Exact<{
  repoId: string | number;
  first: number;
  after: string | null | undefined;
  orderBy: IssueOrderField;
}>;


export type RepositoryPullRequestsQuery = { rateLimit: { cost: number, remaining: number, resetAt: string, limit: number } | null, node:
    | { databaseId: number | null, pullRequests: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ id: string, fullDatabaseId: string | null, number: number, title: string, body: string, state: PullRequestState, isDraft: boolean, createdAt: string, updatedAt: string, closedAt: string | null, mergedAt: string | null, headRefName: string, baseRefName: string, additions: number, deletions: number, changedFiles: number, author:
            | { __typename: 'Bot', databaseId: number | null, login: string }
            | { __typename: 'EnterpriseUserAccount', login: string }
            | { __typename: 'Mannequin', databaseId: number | null, login: string }
            | { __typename: 'Organization', login: string }
            | { __typename: 'User', databaseId: number | null, login: string }
           | null, timelineItems: { nodes: Array<
              | { createdAt: string }
              | Record<PropertyKey, never>
             | null> | null }, reviews: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ fullDatabaseId: string | null, state: PullRequestReviewState, submittedAt: string | null, author:
                | { __typename: 'Bot', databaseId: number | null, login: string }
                | { __typename: 'EnterpriseUserAccount', login: string }
                | { __typename: 'Mannequin', databaseId: number | null, login: string }
                | { __typename: 'Organization', login: string }
                | { __typename: 'User', databaseId: number | null, login: string }
               | null } | null> | null } | null, commits: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ commit: { oid: string, message: string, authoredDate: string, committedDate: string, author: { email: string | null, name: string | null, user: { databaseId: number | null, login: string } | null } | null } } | null> | null }, labels: { nodes: Array<{ name: string } | null> | null } | null } | null> | null } }
    | Record<PropertyKey, never>
   | null };

export type RepositoryWindowSizesQueryVariables = Exact<{
  ids: Array<string | number> | string | number;
  first: number;
}>;


export type RepositoryWindowSizesQuery = { rateLimit: { cost: number, remaining: number, resetAt: string, limit: number } | null, nodes: Array<
    | { id: string, pullRequests: { totalCount: number, nodes: Array<{ createdAt: string } | null> | null } }
    | Record<PropertyKey, never>
   | null> };

export type TeamMembersQueryVariables = Exact<{
  login: string;
  slug: string;
  after: string | null | undefined;
}>;


export type TeamMembersQuery = { rateLimit: { cost: number, remaining: number, resetAt: string, limit: number } | null, organization: { team: { members: { pageInfo: { hasNextPage: boolean, endCursor: string | null }, nodes: Array<{ databaseId: number | null, login: string } | null> | null } } | null } | null };
