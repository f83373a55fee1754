/**
 * GitHub's REST JSON shapes (snake_case), shared by the REST routes and the webhook payloads,
 * which embed the same objects. Only the url fields clients commonly read are filled in.
 */
import type {
  Account,
  App,
  Commit,
  Installation,
  PullRequest,
  Repo,
  Review,
  Team,
  User,
  World,
} from "./world.js";

export interface Urls {
  /** REST base, e.g. http://127.0.0.1:3999/api/v3 */
  api: string;
  /** Web base, e.g. http://127.0.0.1:3999 */
  web: string;
}

export const GITHUB_URLS: Urls = { api: "https://api.github.com", web: "https://github.com" };

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function userJson(user: User, urls: Urls): JsonObject {
  const url = `${urls.api}/users/${user.login}`;
  return {
    login: user.login,
    id: user.id,
    node_id: user.nodeId,
    avatar_url: `${urls.web}/avatars/u/${user.id}?v=4`,
    gravatar_id: "",
    url,
    html_url: `${urls.web}/${user.type === "Bot" ? `apps/${user.login.replace(/\[bot\]$/, "")}` : user.login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: user.type,
    site_admin: false,
  };
}

export function userDetailJson(user: User, urls: Urls): JsonObject {
  return {
    ...userJson(user, urls),
    name: user.name,
    company: null,
    blog: "",
    location: null,
    email: user.email,
    hireable: null,
    bio: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: user.createdAt,
    updated_at: user.createdAt,
  };
}

/** An account as the `owner` of a repo or an installation: user-shaped, with its type. */
export function accountJson(account: Account, urls: Urls): JsonObject {
  // GitHub addresses organisations as owners through /users/ too.
  const url = `${urls.api}/users/${account.login}`;
  return {
    login: account.login,
    id: account.id,
    node_id: account.nodeId,
    avatar_url: `${urls.web}/avatars/u/${account.id}?v=4`,
    gravatar_id: "",
    url,
    html_url: `${urls.web}/${account.login}`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    type: account.type,
    site_admin: false,
  };
}

/** The `organization` object of webhook payloads and GET /orgs/:org. */
export function organizationJson(account: Account, urls: Urls): JsonObject {
  const url = `${urls.api}/orgs/${account.login}`;
  return {
    login: account.login,
    id: account.id,
    node_id: account.nodeId,
    url,
    repos_url: `${url}/repos`,
    events_url: `${url}/events`,
    hooks_url: `${url}/hooks`,
    issues_url: `${url}/issues`,
    members_url: `${url}/members{/member}`,
    public_members_url: `${url}/public_members{/member}`,
    avatar_url: `${urls.web}/avatars/u/${account.id}?v=4`,
    description: "",
  };
}

/**
 * A team as webhook payloads carry it (GitHub's webhooks_team), with its `parent` (null at the
 * top); `nested: false` for the parent itself, which has no parent field.
 */
export function teamJson(world: World, team: Team, urls: Urls, nested = true): JsonObject {
  const org = world.accounts.get(team.orgId);
  const url = `${urls.api}/organizations/${team.orgId}/team/${team.id}`;
  const json: JsonObject = {
    name: team.name,
    id: team.id,
    node_id: team.nodeId,
    slug: team.slug,
    description: team.description,
    privacy: team.privacy,
    notification_setting: "notifications_enabled",
    url,
    html_url: `${urls.web}/orgs/${org?.login ?? "unknown"}/teams/${team.slug}`,
    members_url: `${url}/members{/member}`,
    repositories_url: `${url}/repos`,
    permission: "pull",
  };
  if (nested) {
    const parent =
      team.parentId === null
        ? undefined
        : (world.getTeam(team.parentId) ?? world.deletedTeams.get(team.parentId));
    json["parent"] = parent === undefined ? null : teamJson(world, parent, urls, false);
  }
  return json;
}

/** The owner object of a repo: the account when known, else a user-shaped stand-in. */
function ownerJson(world: World, login: string, urls: Urls): JsonObject {
  const account = world.getAccount(login);
  if (account !== undefined) return accountJson(account, urls);
  const user = world.findUser(login);
  if (user !== undefined) return userJson(user, urls);
  return { login, id: 0, node_id: "", type: "User", site_admin: false };
}

/** The short repository object in installation payloads. */
export function repoSummaryJson(repo: Repo): JsonObject {
  return {
    id: repo.id,
    node_id: repo.nodeId,
    name: repo.name,
    full_name: `${repo.ownerLogin}/${repo.name}`,
    private: repo.private,
  };
}

export function repoJson(world: World, repo: Repo, urls: Urls): JsonObject {
  const fullName = `${repo.ownerLogin}/${repo.name}`;
  const url = `${urls.api}/repos/${fullName}`;
  return {
    id: repo.id,
    node_id: repo.nodeId,
    name: repo.name,
    full_name: fullName,
    private: repo.private,
    owner: ownerJson(world, repo.ownerLogin, urls),
    html_url: `${urls.web}/${fullName}`,
    description: null,
    fork: false,
    url,
    pulls_url: `${url}/pulls{/number}`,
    issues_url: `${url}/issues{/number}`,
    commits_url: `${url}/commits{/sha}`,
    created_at: repo.createdAt,
    updated_at: repo.updatedAt,
    pushed_at: repo.updatedAt,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: null,
    forks_count: 0,
    archived: repo.archived,
    disabled: false,
    open_issues_count: 0,
    license: null,
    visibility: repo.private ? "private" : "public",
    forks: 0,
    open_issues: 0,
    watchers: 0,
    default_branch: repo.defaultBranch,
  };
}

function branchJson(world: World, repo: Repo, ref: string, sha: string, urls: Urls): JsonObject {
  return {
    label: `${repo.ownerLogin}:${ref}`,
    ref,
    sha,
    user: ownerJson(world, repo.ownerLogin, urls),
    repo: repoJson(world, repo, urls),
  };
}

function userOrGhost(world: World, userId: number, urls: Urls): JsonObject {
  const user = world.getUser(userId);
  // GitHub shows deleted accounts as the "ghost" user.
  return user === undefined
    ? { login: "ghost", id: 10137, node_id: "MDQ6VXNlcjEwMTM3", type: "User", site_admin: false }
    : userJson(user, urls);
}

/**
 * A pull request. The list endpoint omits the counters and merge fields; the detail endpoint and
 * webhooks include them (`full`).
 */
export function pullJson(world: World, pr: PullRequest, urls: Urls, full: boolean): JsonObject {
  const repo = world.getRepo(pr.repoId);
  if (repo === undefined) throw new Error(`pull request ${pr.id} has no repository`);
  const fullName = `${repo.ownerLogin}/${repo.name}`;
  const url = `${urls.api}/repos/${fullName}/pulls/${pr.number}`;
  const headSha = pr.commitCount > 0 ? (pr.commits[pr.commits.length - 1]?.sha ?? "") : "";
  const base: JsonObject = {
    url,
    id: pr.id,
    node_id: pr.nodeId,
    html_url: `${urls.web}/${fullName}/pull/${pr.number}`,
    diff_url: `${urls.web}/${fullName}/pull/${pr.number}.diff`,
    patch_url: `${urls.web}/${fullName}/pull/${pr.number}.patch`,
    issue_url: `${urls.api}/repos/${fullName}/issues/${pr.number}`,
    number: pr.number,
    state: pr.state === "OPEN" ? "open" : "closed",
    locked: false,
    title: pr.title,
    user: userOrGhost(world, pr.authorId, urls),
    body: pr.body === "" ? null : pr.body,
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    closed_at: pr.closedAt,
    merged_at: pr.mergedAt,
    merge_commit_sha: pr.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    labels: pr.labels.map((name) => ({ name, color: "ededed", default: false, description: null })),
    milestone: null,
    draft: pr.isDraft,
    commits_url: `${url}/commits`,
    review_comments_url: `${url}/comments`,
    review_comment_url: `${urls.api}/repos/${fullName}/pulls/comments{/number}`,
    comments_url: `${urls.api}/repos/${fullName}/issues/${pr.number}/comments`,
    statuses_url: `${urls.api}/repos/${fullName}/statuses/${headSha}`,
    head: branchJson(world, repo, pr.headRef, headSha, urls),
    base: branchJson(world, repo, pr.baseRef, pr.mergeCommitSha ?? "", urls),
    author_association: "MEMBER",
    auto_merge: null,
    active_lock_reason: null,
  };
  if (!full) return base;
  return {
    ...base,
    merged: pr.state === "MERGED",
    mergeable: pr.state === "OPEN" ? true : null,
    rebaseable: pr.state === "OPEN" ? true : null,
    mergeable_state: pr.state === "OPEN" ? "clean" : "unknown",
    merged_by: null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: pr.commitCount,
    additions: pr.additions,
    deletions: pr.deletions,
    changed_files: pr.changedFiles,
  };
}

/** REST reports review states in upper case, webhooks in lower case. */
export function reviewJson(
  world: World,
  pr: PullRequest,
  review: Review,
  urls: Urls,
  stateCase: "upper" | "lower",
): JsonObject {
  const repo = world.getRepo(pr.repoId);
  const fullName = repo === undefined ? "unknown/unknown" : `${repo.ownerLogin}/${repo.name}`;
  const htmlUrl = `${urls.web}/${fullName}/pull/${pr.number}#pullrequestreview-${review.id}`;
  const pullUrl = `${urls.api}/repos/${fullName}/pulls/${pr.number}`;
  return {
    id: review.id,
    node_id: review.nodeId,
    user: userOrGhost(world, review.authorId, urls),
    body: review.body,
    state: stateCase === "upper" ? review.state : review.state.toLowerCase(),
    html_url: htmlUrl,
    pull_request_url: pullUrl,
    author_association: "MEMBER",
    _links: { html: { href: htmlUrl }, pull_request: { href: pullUrl } },
    submitted_at: review.submittedAt,
    commit_id: pr.commits[pr.commits.length - 1]?.sha ?? null,
  };
}

export function commitJson(world: World, repo: Repo, commit: Commit, urls: Urls): JsonObject {
  const fullName = `${repo.ownerLogin}/${repo.name}`;
  const linked = commit.authorUserId === null ? undefined : world.getUser(commit.authorUserId);
  const url = `${urls.api}/repos/${fullName}/commits/${commit.sha}`;
  return {
    sha: commit.sha,
    node_id: `C_kwDO${Buffer.from(commit.sha.slice(0, 12)).toString("base64url")}`,
    commit: {
      author: { name: commit.authorName, email: commit.authorEmail, date: commit.authoredDate },
      committer: { name: commit.authorName, email: commit.authorEmail, date: commit.committedDate },
      message: commit.message,
      tree: { sha: commit.sha, url: `${urls.api}/repos/${fullName}/git/trees/${commit.sha}` },
      url: `${urls.api}/repos/${fullName}/git/commits/${commit.sha}`,
      comment_count: 0,
      verification: { verified: false, reason: "unsigned", signature: null, payload: null },
    },
    url,
    html_url: `${urls.web}/${fullName}/commit/${commit.sha}`,
    comments_url: `${url}/comments`,
    author: linked === undefined ? null : userJson(linked, urls),
    committer: linked === undefined ? null : userJson(linked, urls),
    parents: [],
  };
}

export function appJson(world: World, app: App, urls: Urls): JsonObject {
  return {
    id: app.id,
    slug: app.slug,
    node_id: app.nodeId,
    client_id: app.clientId,
    owner: null,
    name: app.name,
    description: "",
    external_url: urls.web,
    html_url: `${urls.web}/apps/${app.slug}`,
    created_at: app.createdAt,
    updated_at: app.createdAt,
    permissions: app.permissions,
    events: app.events,
    installations_count: [...world.installations.values()].filter((i) => i.appId === app.id).length,
  };
}

export function installationJson(world: World, installation: Installation, urls: Urls): JsonObject {
  const account = world.accounts.get(installation.accountId);
  const app = world.apps.get(installation.appId);
  return {
    id: installation.id,
    account: account === undefined ? null : accountJson(account, urls),
    repository_selection: installation.repositorySelection,
    access_tokens_url: `${urls.api}/app/installations/${installation.id}/access_tokens`,
    repositories_url: `${urls.api}/installation/repositories`,
    html_url: `${urls.web}/organizations/${account?.login ?? ""}/settings/installations/${installation.id}`,
    app_id: installation.appId,
    app_slug: app?.slug ?? "",
    target_id: installation.accountId,
    target_type: account?.type ?? "Organization",
    permissions: installation.permissions,
    events: installation.events,
    created_at: installation.createdAt,
    updated_at: installation.updatedAt,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: installation.suspendedAt,
  };
}
