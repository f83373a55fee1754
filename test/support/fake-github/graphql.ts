/**
 * GraphQL against GitHub's real public schema (@octokit/graphql-schema), so a query that GitHub
 * would reject is rejected here the same way. Resolvers are plain objects with function-valued fields
 * (graphql-js's default resolver calls them with the field arguments); `__typename` drives
 * interface and union resolution.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { GraphQLError, buildSchema, execute, getOperationAST, parse, validate } from "graphql";
import type { DocumentNode, GraphQLSchema } from "graphql";
import { analyzeQuery } from "./cost.js";
import type { QueryError } from "./cost.js";
import type { BucketState, RateLimiter } from "./rate-limit.js";
import { isoSeconds } from "./seed.js";
import type { Urls } from "./shapes.js";
import { decodeNodeId } from "./world.js";
import type {
  Account,
  Commit,
  PullRequest,
  PullRequestState,
  Repo,
  Review,
  Team,
  TimelineEvent,
  TimelineEventType,
  User,
  World,
} from "./world.js";

/** GitHub serves at most 250 commits of a pull request, whatever the PR holds. */
export const MAX_PULL_REQUEST_COMMITS = 250;

let cachedSchema: GraphQLSchema | undefined;

/** GitHub's schema, built once per process (it is 1.2 MB of SDL; building takes ~0.3 s). */
export function loadGitHubSchema(): GraphQLSchema {
  if (cachedSchema === undefined) {
    const sdl = readFileSync(schemaPath(), "utf8");
    // The published SDL repeats two EnterpriseOwnerInfo fields; graphql-js's SDL validation rejects
    // that, so skip it (the duplicates are identical and the last one wins).
    cachedSchema = buildSchema(sdl, { assumeValidSDL: true });
  }
  return cachedSchema;
}

/** A query text parsed and validated against the schema: its document, or GitHub's errors. */
type CheckedQuery = { document: DocumentNode; errors: [] } | { document?: undefined; errors: unknown[] };

/**
 * The app sends a few dozen query texts thousands of times: each is parsed and validated once.
 * Bounded, so a test sending generated queries cannot grow it without end.
 */
const checkedQueries = new Map<string, CheckedQuery>();
const CHECKED_QUERIES_KEPT = 500;

function checkQuery(schema: GraphQLSchema, query: string): CheckedQuery {
  let checked = checkedQueries.get(query);
  if (checked) return checked;
  try {
    const document = parse(query);
    const errors = validate(schema, document);
    checked = errors.length > 0 ? { errors: errors.map(formatValidationError) } : { document, errors: [] };
  } catch (error) {
    checked = {
      errors: [formatError(error instanceof GraphQLError ? error : new GraphQLError(String(error)))],
    };
  }
  if (checkedQueries.size >= CHECKED_QUERIES_KEPT) checkedQueries.clear();
  checkedQueries.set(query, checked);
  return checked;
}

/**
 * The package's `exports` only expose its ESM entry, so `require.resolve` of the .graphql file
 * fails; walk Node's module search paths instead (works under tsx and Jest's VM modules alike).
 */
function schemaPath(): string {
  const searchPaths = createRequire(import.meta.url).resolve.paths("@octokit/graphql-schema") ?? [];
  for (const dir of searchPaths) {
    const candidate = join(dir, "@octokit", "graphql-schema", "schema.graphql");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("@octokit/graphql-schema is not installed");
}

export interface GraphqlRequest {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

export interface GraphqlContext {
  world: World;
  urls: Urls;
  installationId: number;
  /** Null when rate limiting is disabled (GHES default). */
  limiter: RateLimiter | null;
}

export interface GraphqlOutcome {
  status: number;
  body: Record<string, unknown>;
  /** The graphql bucket after this query, for the x-ratelimit-* headers; null when disabled. */
  rate: BucketState | null;
  /** Points charged. */
  cost: number;
  /** Objects returned in connections' nodes/edges (drives latency and timeout faults). */
  nodes: number;
}

class GitHubQueryError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export async function executeGraphql(ctx: GraphqlContext, request: GraphqlRequest): Promise<GraphqlOutcome> {
  const schema = loadGitHubSchema();
  const rate = ctx.limiter?.peek(ctx.installationId, "graphql") ?? null;
  const fail = (errors: unknown[]): GraphqlOutcome => ({
    status: 200,
    body: { errors },
    rate,
    cost: 0,
    nodes: 0,
  });

  if (typeof request.query !== "string") {
    return fail([{ message: "A query attribute must be specified and must be a string." }]);
  }
  const { document, errors } = checkQuery(schema, request.query);
  if (!document) return fail(errors);
  const operationName = typeof request.operationName === "string" ? request.operationName : undefined;
  const operation = getOperationAST(document, operationName);
  if (operation == null) {
    return fail([
      { message: operationName ? `No operation named "${operationName}"` : "An operation name is required" },
    ]);
  }
  const variables =
    request.variables !== null && typeof request.variables === "object"
      ? (request.variables as Record<string, unknown>)
      : {};
  const analysis = analyzeQuery(schema, document, operation, variables);
  if (analysis.errors.length > 0) return fail(analysis.errors);

  let after: BucketState | null = null;
  if (ctx.limiter !== null && !analysis.dryRun) {
    const taken = ctx.limiter.take(ctx.installationId, "graphql", analysis.cost);
    after = taken.state;
    if (!taken.ok) {
      return {
        status: 200,
        body: {
          errors: [
            {
              type: "RATE_LIMITED",
              message: `API rate limit exceeded for installation ID ${ctx.installationId}.`,
            },
          ],
        },
        rate: { ...taken.state, remaining: 0 },
        cost: 0,
        nodes: 0,
      };
    }
  }
  const rateLimitView =
    ctx.limiter === null
      ? null
      : (() => {
          const state = after ?? ctx.limiter.peek(ctx.installationId, "graphql");
          return {
            cost: analysis.cost,
            limit: state.limit,
            remaining: state.remaining,
            used: state.used,
            resetAt: isoSeconds(state.reset * 1000),
            nodeCount: analysis.nodeCount,
          };
        })();

  const result = await execute({
    schema,
    document,
    operationName,
    variableValues: variables,
    rootValue: buildRoot(ctx, rateLimitView, analysis.dryRun),
  });
  const body: Record<string, unknown> = { data: result.data ?? null };
  if (result.errors !== undefined && result.errors.length > 0)
    body["errors"] = result.errors.map(formatError);
  return {
    status: 200,
    body,
    rate: after ?? rate,
    cost: analysis.dryRun ? 0 : analysis.cost,
    nodes: countNodes(result.data),
  };
}

/** Objects in `nodes`/`edges` lists anywhere in a result. */
export function countNodes(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + countNodes(item), 0);
  if (value === null || typeof value !== "object") return 0;
  let total = 0;
  for (const [key, child] of Object.entries(value)) {
    if ((key === "nodes" || key === "edges") && Array.isArray(child)) total += child.length;
    total += countNodes(child);
  }
  return total;
}

function formatError(error: GraphQLError): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (error.originalError instanceof GitHubQueryError) out["type"] = error.originalError.type;
  if (error.path !== undefined) out["path"] = error.path;
  if (error.locations !== undefined) out["locations"] = error.locations;
  out["message"] = error.message;
  return out;
}

/** graphql-js wording rewritten to GitHub's for the most common mistake (an unknown field). */
function formatValidationError(error: GraphQLError): Record<string, unknown> {
  const unknownField = /^Cannot query field "([^"]+)" on type "([^"]+)"\./.exec(error.message);
  if (unknownField !== null) {
    const [, fieldName, typeName] = unknownField;
    return {
      locations: error.locations,
      message: `Field '${fieldName}' doesn't exist on type '${typeName}'`,
      extensions: { code: "undefinedField", typeName, fieldName },
    };
  }
  return formatError(error);
}

// ---- resolvers -----------------------------------------------------------------------------------

type View = Record<string, unknown>;

interface PageArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

function encodeCursor(index: number): string {
  return Buffer.from(`cursor:v2:${index}`).toString("base64");
}

function decodeCursor(cursor: string, argName: string): number {
  const match = /^cursor:v2:(\d+)$/.exec(Buffer.from(cursor, "base64").toString());
  if (match === null || match[1] === undefined) {
    throw new GitHubQueryError(
      "INVALID_CURSOR_ARGUMENTS",
      `\`${argName}\` does not appear to be a valid cursor.`,
    );
  }
  return Number(match[1]);
}

/** A Relay connection over an in-memory list; cursors are opaque offsets. */
function connection<T>(
  items: readonly T[],
  args: PageArgs,
  toView: (item: T) => View,
  totalCount = items.length,
): View {
  let start = args.after ? decodeCursor(args.after, "after") + 1 : 0;
  let end = args.before ? Math.min(items.length, decodeCursor(args.before, "before")) : items.length;
  if (typeof args.first === "number") end = Math.min(end, start + args.first);
  if (typeof args.last === "number") start = Math.max(start, end - args.last);
  start = Math.min(start, items.length);
  end = Math.max(start, end);
  let views: View[] | undefined;
  const page = (): View[] => (views ??= items.slice(start, end).map(toView));
  return {
    totalCount,
    pageInfo: {
      hasNextPage: end < items.length,
      hasPreviousPage: start > 0,
      startCursor: end > start ? encodeCursor(start) : null,
      endCursor: end > start ? encodeCursor(end - 1) : null,
    },
    nodes: page,
    edges: () => page().map((node, i) => ({ cursor: encodeCursor(start + i), node })),
  };
}

function notFound(message: string): GitHubQueryError {
  return new GitHubQueryError("NOT_FOUND", message);
}

/** A list item that fails alone: graphql-js nulls it and reports the error at its index. */
function missingNode(id: string): Promise<never> {
  const failed = Promise.reject(notFound(`Could not resolve to a node with the global id of '${id}'`));
  // graphql-js takes the rejection when it completes the list; this only keeps Node from calling
  // it unhandled in the meantime.
  failed.catch(() => undefined);
  return failed;
}

function buildRoot(ctx: GraphqlContext, rateLimit: View | null, dryRun: boolean): View {
  const views = new Views(ctx);
  if (dryRun) return { rateLimit: () => rateLimit };
  return {
    rateLimit: () => rateLimit,
    repository: (args: { owner: string; name: string }) => {
      const repo = ctx.world.findRepo(args.owner, args.name);
      if (repo === undefined || !views.canSee(repo)) {
        throw notFound(`Could not resolve to a Repository with the name '${args.owner}/${args.name}'.`);
      }
      return views.repo(repo);
    },
    node: (args: { id: string }) => {
      const view = views.node(args.id);
      if (view === null) throw notFound(`Could not resolve to a node with the global id of '${args.id}'`);
      return view;
    },
    // An id GitHub cannot resolve is a null in the list and a NOT_FOUND error at its index; the
    // other objects are answered.
    nodes: (args: { ids: string[] }) => args.ids.map((id) => views.node(id) ?? missingNode(id)),
    organization: (args: { login: string }) => {
      const org = ctx.world.getAccount(args.login);
      if (org === undefined || org.type !== "Organization") {
        throw notFound(`Could not resolve to an Organization with the login of '${args.login}'.`);
      }
      return views.organization(org);
    },
    user: (args: { login: string }) => {
      const user = ctx.world.findUser(args.login);
      if (user === undefined || user.type !== "User") {
        throw notFound(`Could not resolve to a User with the login of '${args.login}'.`);
      }
      return views.actor(user);
    },
  };
}

const TIMELINE_TYPENAMES: Record<TimelineEventType, string> = {
  READY_FOR_REVIEW_EVENT: "ReadyForReviewEvent",
  CONVERT_TO_DRAFT_EVENT: "ConvertToDraftEvent",
};

class Views {
  readonly #ctx: GraphqlContext;
  readonly #visibleRepos: Set<number>;

  constructor(ctx: GraphqlContext) {
    this.#ctx = ctx;
    this.#visibleRepos = new Set(ctx.world.getInstallation(ctx.installationId)?.repoIds ?? []);
  }

  canSee(repo: Repo): boolean {
    return this.#visibleRepos.has(repo.id);
  }

  node(id: string): View | null {
    const decoded = decodeNodeId(id);
    if (decoded === null) return null;
    const { world } = this.#ctx;
    switch (decoded.prefix) {
      case "PR": {
        const pr = world.getPullRequest(decoded.id);
        const repo = pr === undefined ? undefined : world.getRepo(pr.repoId);
        return pr !== undefined && repo !== undefined && this.canSee(repo) ? this.pullRequest(pr) : null;
      }
      case "R": {
        const repo = world.getRepo(decoded.id);
        return repo !== undefined && this.canSee(repo) ? this.repo(repo) : null;
      }
      case "U":
      case "BOT": {
        const user = world.getUser(decoded.id);
        return user === undefined ? null : this.actor(user);
      }
      case "O": {
        const org = world.accounts.get(decoded.id);
        return org === undefined ? null : this.organization(org);
      }
      case "T": {
        const team = world.getTeam(decoded.id);
        return team === undefined ? null : this.team(team);
      }
      case "PRR": {
        const found = world.getReview(decoded.id);
        const repo = found === undefined ? undefined : world.getRepo(found.pullRequest.repoId);
        return found !== undefined && repo !== undefined && this.canSee(repo)
          ? this.review(found.pullRequest, found.review)
          : null;
      }
      default:
        return null;
    }
  }

  repo(repo: Repo): View {
    const { world, urls } = this.#ctx;
    const owner = world.getAccount(repo.ownerLogin);
    return {
      __typename: "Repository",
      id: repo.nodeId,
      databaseId: repo.id,
      name: repo.name,
      nameWithOwner: `${repo.ownerLogin}/${repo.name}`,
      owner: {
        __typename: owner?.type === "User" ? "User" : "Organization",
        id: owner?.nodeId ?? "",
        login: repo.ownerLogin,
        url: `${urls.web}/${repo.ownerLogin}`,
      },
      isPrivate: repo.private,
      isArchived: repo.archived,
      visibility: repo.private ? "PRIVATE" : "PUBLIC",
      defaultBranchRef: { __typename: "Ref", id: `REF_${repo.nodeId}`, name: repo.defaultBranch },
      createdAt: repo.createdAt,
      updatedAt: repo.updatedAt,
      url: `${urls.web}/${repo.ownerLogin}/${repo.name}`,
      pullRequests: (
        args: PageArgs & {
          states?: PullRequestState[] | null;
          orderBy?: { field: string; direction: "ASC" | "DESC" } | null;
          headRefName?: string | null;
          baseRefName?: string | null;
        },
      ) => {
        const field = args.orderBy?.field;
        const list = world.queryPullRequests(repo.id, {
          states: args.states ?? undefined,
          sort: field === "UPDATED_AT" ? "updated" : field === undefined ? "number" : "created",
          direction: args.orderBy?.direction === "DESC" ? "desc" : "asc",
          head: args.headRefName ?? undefined,
          base: args.baseRefName ?? undefined,
        });
        return connection(list, args, (pr) => this.pullRequest(pr));
      },
    };
  }

  pullRequest(pr: PullRequest): View {
    const { world, urls } = this.#ctx;
    const repo = world.getRepo(pr.repoId);
    const url = `${urls.web}/${repo?.ownerLogin ?? "unknown"}/${repo?.name ?? "unknown"}/pull/${pr.number}`;
    const author = world.getUser(pr.authorId);
    return {
      __typename: "PullRequest",
      id: pr.nodeId,
      databaseId: pr.id,
      fullDatabaseId: String(pr.id),
      number: pr.number,
      title: pr.title,
      body: pr.body,
      state: pr.state,
      isDraft: pr.isDraft,
      merged: pr.state === "MERGED",
      closed: pr.state !== "OPEN",
      createdAt: pr.createdAt,
      updatedAt: pr.updatedAt,
      closedAt: pr.closedAt,
      mergedAt: pr.mergedAt,
      headRefName: pr.headRef,
      baseRefName: pr.baseRef,
      additions: pr.additions,
      deletions: pr.deletions,
      changedFiles: pr.changedFiles,
      url,
      permalink: url,
      author: author === undefined ? null : this.actor(author),
      repository: () => (repo === undefined ? null : this.repo(repo)),
      labels: (args: PageArgs) =>
        connection(pr.labels, args, (name) => ({
          __typename: "Label",
          name,
          color: "ededed",
          isDefault: false,
        })),
      commits: (args: PageArgs) =>
        connection(
          pr.commits.slice(0, MAX_PULL_REQUEST_COMMITS),
          args,
          (commit) => this.pullRequestCommit(pr, commit, url),
          pr.commits.length,
        ),
      reviews: (args: PageArgs & { states?: string[] | null; author?: string | null }) => {
        // Pending reviews are private to their author, and an app never is that author.
        const visible = pr.reviews.filter(
          (r) =>
            r.state !== "PENDING" &&
            (args.states == null || args.states.includes(r.state)) &&
            (args.author == null || world.getUser(r.authorId)?.login === args.author),
        );
        return connection(visible, args, (review) => this.review(pr, review));
      },
      timelineItems: (
        args: PageArgs & { itemTypes?: string[] | null; since?: string | null; skip?: number | null },
      ) => {
        let events = pr.timeline.filter(
          (e) =>
            (args.itemTypes == null || args.itemTypes.includes(e.type)) &&
            (args.since == null || e.createdAt >= args.since),
        );
        if (typeof args.skip === "number") events = events.slice(args.skip);
        const view = connection(events, args, (event) => this.timelineEvent(pr, event));
        return { ...view, filteredCount: events.length, pageCount: events.length, updatedAt: pr.updatedAt };
      },
    };
  }

  pullRequestCommit(pr: PullRequest, commit: Commit, pullUrl: string): View {
    const linked = commit.authorUserId === null ? undefined : this.#ctx.world.getUser(commit.authorUserId);
    // GitActor.user is a User; commits by bots have no linked User in GraphQL.
    const user = linked !== undefined && linked.type === "User" ? this.actor(linked) : null;
    const gitActor = (date: string): View => ({
      name: commit.authorName,
      email: commit.authorEmail,
      date,
      user,
    });
    return {
      __typename: "PullRequestCommit",
      id: `PURC_${pr.nodeId}_${commit.sha.slice(0, 10)}`,
      url: `${pullUrl}/commits/${commit.sha}`,
      commit: {
        __typename: "Commit",
        id: `C_${commit.sha}`,
        oid: commit.sha,
        abbreviatedOid: commit.sha.slice(0, 7),
        message: commit.message,
        messageHeadline: commit.message.split("\n")[0] ?? "",
        messageBody: commit.message.split("\n").slice(1).join("\n").trim(),
        authoredDate: commit.authoredDate,
        committedDate: commit.committedDate,
        author: gitActor(commit.authoredDate),
        committer: gitActor(commit.committedDate),
      },
    };
  }

  review(pr: PullRequest, review: Review): View {
    const author = this.#ctx.world.getUser(review.authorId);
    return {
      __typename: "PullRequestReview",
      id: review.nodeId,
      databaseId: review.id,
      fullDatabaseId: String(review.id),
      state: review.state,
      body: review.body,
      submittedAt: review.submittedAt,
      createdAt: review.submittedAt ?? review.updatedAt,
      updatedAt: review.updatedAt,
      author: author === undefined ? null : this.actor(author),
      pullRequest: () => this.pullRequest(pr),
    };
  }

  timelineEvent(pr: PullRequest, event: TimelineEvent): View {
    const actor = event.actorId === null ? undefined : this.#ctx.world.getUser(event.actorId);
    return {
      __typename: TIMELINE_TYPENAMES[event.type],
      id: event.nodeId,
      createdAt: event.createdAt,
      actor: actor === undefined ? null : this.actor(actor),
      pullRequest: () => this.pullRequest(pr),
    };
  }

  /** Users and bots. Like GitHub, a bot's GraphQL login has no "[bot]" suffix (REST keeps it). */
  actor(user: User): View {
    const { urls } = this.#ctx;
    if (user.type === "Bot") {
      const login = user.login.replace(/\[bot\]$/, "");
      return {
        __typename: "Bot",
        id: user.nodeId,
        databaseId: user.id,
        login,
        url: `${urls.web}/apps/${login}`,
        createdAt: user.createdAt,
        updatedAt: user.createdAt,
      };
    }
    return {
      __typename: "User",
      id: user.nodeId,
      databaseId: user.id,
      login: user.login,
      name: user.name,
      // User.email is non-null on GitHub: the public email or "".
      email: user.email ?? "",
      url: `${urls.web}/${user.login}`,
      createdAt: user.createdAt,
      updatedAt: user.createdAt,
    };
  }

  organization(org: Account): View {
    const { world, urls } = this.#ctx;
    return {
      __typename: "Organization",
      id: org.nodeId,
      databaseId: org.id,
      login: org.login,
      name: org.login,
      url: `${urls.web}/${org.login}`,
      membersWithRole: (args: PageArgs) => {
        const members = org.memberIds.flatMap((id) => {
          const user = world.getUser(id);
          return user === undefined ? [] : [user];
        });
        return connection(members, args, (user) => this.actor(user));
      },
      // GitHub lists teams by name; rootTeamsOnly keeps those without a parent.
      teams: (args: PageArgs & { rootTeamsOnly?: boolean | null; query?: string | null }) => {
        const query = args.query?.toLowerCase();
        const teams = world
          .teamsOf(org.id)
          .filter(
            (team) =>
              (!args.rootTeamsOnly || team.parentId === null) &&
              (query === undefined || team.name.toLowerCase().includes(query) || team.slug.includes(query)),
          );
        return connection(teams, args, (team) => this.team(team));
      },
      team: (args: { slug: string }) => {
        const team = world.findTeam(org.id, args.slug);
        return team === undefined ? null : this.team(team);
      },
    };
  }

  team(team: Team): View {
    const { world, urls } = this.#ctx;
    const org = world.accounts.get(team.orgId);
    const users = (ids: readonly number[]) =>
      ids.flatMap((id) => {
        const user = world.getUser(id);
        return user === undefined ? [] : [user];
      });
    const url = `${urls.web}/orgs/${org?.login ?? "unknown"}/teams/${team.slug}`;
    return {
      __typename: "Team",
      id: team.nodeId,
      databaseId: team.id,
      slug: team.slug,
      combinedSlug: `${org?.login ?? "unknown"}/${team.slug}`,
      name: team.name,
      description: team.description,
      privacy: team.privacy === "secret" ? "SECRET" : "VISIBLE",
      createdAt: team.createdAt,
      updatedAt: team.updatedAt,
      url,
      resourcePath: url.slice(urls.web.length),
      organization: () => (org === undefined ? null : this.organization(org)),
      parentTeam: () => {
        const parent = team.parentId === null ? undefined : world.getTeam(team.parentId);
        return parent === undefined ? null : this.team(parent);
      },
      childTeams: (args: PageArgs & { immediateOnly?: boolean | null }) => {
        const children =
          args.immediateOnly === false
            ? world.descendantsOf(team.id)
            : [...world.teams.values()].filter((child) => child.parentId === team.id);
        return connection(children, args, (child) => this.team(child));
      },
      // IMMEDIATE: the team's own members; CHILD_TEAM: its sub-teams' (at any depth) who are not;
      // ALL (GitHub's default): both.
      members: (args: PageArgs & { membership?: "ALL" | "IMMEDIATE" | "CHILD_TEAM" | null }) => {
        const membership = args.membership ?? "ALL";
        const below = [...new Set(world.descendantsOf(team.id).flatMap((child) => child.memberIds))].filter(
          (id) => !team.memberIds.includes(id),
        );
        const ids =
          membership === "IMMEDIATE"
            ? team.memberIds
            : membership === "CHILD_TEAM"
              ? below
              : [...team.memberIds, ...below];
        return connection(users(ids), args, (user) => this.actor(user));
      },
    };
  }
}

export type { QueryError };
