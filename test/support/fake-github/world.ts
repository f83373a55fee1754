/**
 * The fake GitHub's truth: plain, synchronous, deterministic data that tests mutate directly.
 * HTTP handlers and webhook builders only read from here (and issue tokens).
 */
import { randomBytes } from "node:crypto";
import { generateCommits, generateReviews, isoSeconds, seedOrg } from "./seed.js";
import type { SeedOrgOptions, SeedOrgResult, SeedPool } from "./seed.js";

export type UserType = "User" | "Bot";
export type AccountType = "Organization" | "User";
export type PullRequestState = "OPEN" | "CLOSED" | "MERGED";
export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";
export type TimelineEventType = "READY_FOR_REVIEW_EVENT" | "CONVERT_TO_DRAFT_EVENT";

export interface User {
  id: number;
  nodeId: string;
  login: string;
  name: string | null;
  email: string | null;
  type: UserType;
  createdAt: string;
}

export interface Account {
  id: number;
  nodeId: string;
  login: string;
  type: AccountType;
  memberIds: number[];
  createdAt: string;
}

/** A team of an organization. GitHub keeps each team's immediate members; parents are links. */
export interface Team {
  id: number;
  nodeId: string;
  orgId: number;
  slug: string;
  name: string;
  description: string | null;
  /** REST's "closed" is GraphQL's VISIBLE; secret teams cannot be nested on GitHub. */
  privacy: "closed" | "secret";
  parentId: number | null;
  /** Immediate members, in the order they joined. */
  memberIds: number[];
  createdAt: string;
  updatedAt: string;
}

export interface App {
  id: number;
  nodeId: string;
  slug: string;
  name: string;
  clientId: string;
  permissions: Record<string, string>;
  events: string[];
  createdAt: string;
}

export interface Installation {
  id: number;
  appId: number;
  accountId: number;
  repositorySelection: "all" | "selected";
  repoIds: number[];
  suspended: boolean;
  suspendedAt: string | null;
  permissions: Record<string, string>;
  events: string[];
  createdAt: string;
  updatedAt: string;
}

export interface Repo {
  id: number;
  nodeId: string;
  name: string;
  ownerLogin: string;
  private: boolean;
  archived: boolean;
  defaultBranch: string;
  createdAt: string;
  updatedAt: string;
}

export interface Commit {
  sha: string;
  message: string;
  authorUserId: number | null;
  authorEmail: string;
  authorName: string;
  authoredDate: string;
  committedDate: string;
}

export interface Review {
  id: number;
  nodeId: string;
  authorId: number;
  state: ReviewState;
  submittedAt: string | null;
  updatedAt: string;
  body: string;
}

export interface TimelineEvent {
  id: number;
  nodeId: string;
  type: TimelineEventType;
  createdAt: string;
  actorId: number | null;
}

/** The scalar fields of a pull request (what seeding and `createPullRequest` provide). */
export interface PullRequestFields {
  title: string;
  body: string;
  state: PullRequestState;
  isDraft: boolean;
  authorId: number;
  headRef: string;
  baseRef: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  /** Null unless the PR was a draft that was made ready. */
  readyForReviewAt: string | null;
  mergeCommitSha: string | null;
  additions: number;
  deletions: number;
  changedFiles: number;
  /** Label names, in the order they were added (GitHub lists a pull request's labels so). */
  labels?: string[];
}

export interface PullRequestData extends PullRequestFields {
  id: number;
  nodeId: string;
  repoId: number;
  number: number;
}

/** Seed-time inputs for generating a PR's commits and reviews on first access. */
export interface LazyLists {
  seed: number;
  commitCount: number;
  reviewCount: number;
  reviewIdBase: number;
  startMs: number;
  endMs: number;
  authorId: number;
  pool: SeedPool;
}

export class PullRequest implements PullRequestData {
  id: number;
  nodeId: string;
  repoId: number;
  number: number;
  title: string;
  body: string;
  state: PullRequestState;
  isDraft: boolean;
  authorId: number;
  headRef: string;
  baseRef: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  readyForReviewAt: string | null;
  mergeCommitSha: string | null;
  additions: number;
  deletions: number;
  changedFiles: number;
  labels: string[];
  timeline: TimelineEvent[];
  #lazy: LazyLists | null;
  #commits: Commit[] | null = null;
  #reviews: Review[] | null = null;

  constructor(data: PullRequestData, lazy: LazyLists | null, timeline: TimelineEvent[]) {
    this.id = data.id;
    this.nodeId = data.nodeId;
    this.repoId = data.repoId;
    this.number = data.number;
    this.title = data.title;
    this.body = data.body;
    this.state = data.state;
    this.isDraft = data.isDraft;
    this.authorId = data.authorId;
    this.headRef = data.headRef;
    this.baseRef = data.baseRef;
    this.createdAt = data.createdAt;
    this.updatedAt = data.updatedAt;
    this.closedAt = data.closedAt;
    this.mergedAt = data.mergedAt;
    this.readyForReviewAt = data.readyForReviewAt;
    this.mergeCommitSha = data.mergeCommitSha;
    this.additions = data.additions;
    this.deletions = data.deletions;
    this.changedFiles = data.changedFiles;
    this.labels = data.labels ?? [];
    this.timeline = timeline;
    this.#lazy = lazy;
  }

  get commits(): Commit[] {
    this.#commits ??= this.#lazy === null ? [] : generateCommits(this.#lazy);
    return this.#commits;
  }
  set commits(value: Commit[]) {
    this.#commits = value;
  }
  get reviews(): Review[] {
    this.#reviews ??= this.#lazy === null ? [] : generateReviews(this.#lazy, (id) => encodeNodeId("PRR", id));
    return this.#reviews;
  }
  set reviews(value: Review[]) {
    this.#reviews = value;
  }
  /** Counts without materialising lazily generated lists. */
  get commitCount(): number {
    return this.#commits?.length ?? this.#lazy?.commitCount ?? 0;
  }
  get reviewCount(): number {
    return this.#reviews?.length ?? this.#lazy?.reviewCount ?? 0;
  }
  get merged(): boolean {
    return this.state === "MERGED";
  }
}

/** Node ids in GitHub's newer shape (`PR_kwDO…`), decodable back to type and database id. */
export function encodeNodeId(prefix: string, id: number): string {
  return `${prefix}_kwDO${Buffer.from(String(id)).toString("base64url")}`;
}

export function decodeNodeId(nodeId: string): { prefix: string; id: number } | null {
  const match = /^([A-Z]+)_kwDO([A-Za-z0-9_-]+)$/.exec(nodeId);
  if (match === null || match[1] === undefined || match[2] === undefined) return null;
  const id = Number(Buffer.from(match[2], "base64url").toString());
  return Number.isSafeInteger(id) ? { prefix: match[1], id } : null;
}

/** Installation tokens live an hour on GitHub. */
export const TOKEN_LIFETIME_MS = 3_600_000;

/**
 * One attempt to deliver a webhook to an App, as GET /app/hook/deliveries lists it, with what was
 * sent so that the attempt can be redelivered.
 */
export interface HookDeliveryRecord {
  id: number;
  guid: string;
  deliveredAt: string;
  redelivery: boolean;
  /** Seconds the receiver took. */
  duration: number;
  /** "OK", "Invalid HTTP Response: 503", "failed to connect to host". */
  status: string;
  /** 0 when the receiver could not be reached. */
  statusCode: number;
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
  appId: number | null;
  sent: { url: string; secret: string; payload: unknown };
}

export interface IssuedToken {
  token: string;
  installationId: number;
  expiresAt: Date;
}

export const DEFAULT_APP_PERMISSIONS: Record<string, string> = {
  metadata: "read",
  contents: "read",
  pull_requests: "read",
  members: "read",
};
export const DEFAULT_APP_EVENTS = [
  "installation_target",
  "member",
  "membership",
  "organization",
  "pull_request",
  "pull_request_review",
  "repository",
  "team",
];

export interface PullRequestQuery {
  states?: readonly PullRequestState[];
  /** Default: by number (creation order). */
  sort?: "number" | "created" | "updated";
  direction?: "asc" | "desc";
  head?: string;
  base?: string;
}

export interface WorldOptions {
  seed?: number;
}

export class World {
  readonly seed: number;
  readonly users = new Map<number, User>();
  readonly accounts = new Map<number, Account>();
  readonly apps = new Map<number, App>();
  readonly installations = new Map<number, Installation>();
  readonly repos = new Map<number, Repo>();
  readonly pullRequests = new Map<number, PullRequest>();
  readonly teams = new Map<number, Team>();
  /** Kept so webhooks about a deleted team can still describe it. */
  readonly deletedTeams = new Map<number, Team>();
  /** Kept so webhooks about deletions can still describe what was deleted. */
  readonly deletedRepos = new Map<number, Repo>();
  readonly deletedInstallations = new Map<number, Installation>();
  /** Every webhook delivery attempt recorded by deliverWebhook, oldest first. */
  readonly hookDeliveries: HookDeliveryRecord[] = [];
  /**
   * Where an App's webhook points now (GitHub redelivers there, not to the original URL); unset:
   * the URL of the attempt being redelivered.
   */
  readonly hookUrls = new Map<number, string>();
  /** Bumped on every mutation, so readers can cache derived views (sorted lists). */
  version = 0;

  #fixedNow: Date | null = null;
  readonly #queryCache = new Map<string, PullRequest[]>();
  #queryCacheVersion = -1;
  readonly #pullsByRepo = new Map<number, PullRequest[]>();
  readonly #usersByLogin = new Map<string, User>();
  readonly #tokens = new Map<string, IssuedToken>();
  /** Seeded reviews own contiguous id blocks, found by binary search; added reviews are mapped. */
  readonly #reviewBlockBase: number[] = [];
  readonly #reviewBlockPr: number[] = [];
  readonly #addedReviewPr = new Map<number, number>();
  // Distinct ranges per kind, loosely like github.com's magnitudes, so ids never collide in tests.
  #nextUserId = 1_001;
  #nextAccountId = 9_000_001;
  #nextInstallationId = 40_001;
  #nextRepoId = 100_001;
  #nextPullId = 1_000_001;
  #nextReviewId = 50_000_001;
  #nextEventId = 90_000_001;
  #nextHookDeliveryId = 70_000_001;
  #nextTeamId = 3_000_001;

  constructor(options: WorldOptions = {}) {
    this.seed = options.seed ?? 1;
  }

  // ---- clock ---------------------------------------------------------------------------------

  now(): Date {
    return this.#fixedNow === null ? new Date() : new Date(this.#fixedNow);
  }
  nowIso(): string {
    return isoSeconds(this.now().getTime());
  }
  /** Freezes the clock at `date`; `null` returns to real time. */
  setNow(date: Date | string | null): void {
    this.#fixedNow = date === null ? null : new Date(date);
  }

  // ---- seeding -------------------------------------------------------------------------------

  seedOrg(options: SeedOrgOptions): SeedOrgResult {
    return seedOrg(this, options);
  }

  /** Used by the seeder: inserts a PR whose commits and reviews are generated on first access. */
  insertSeededPullRequest(repoId: number, fields: PullRequestFields, lazy: LazyLists): PullRequest {
    lazy.reviewIdBase = this.#nextReviewId;
    this.#nextReviewId += lazy.reviewCount;
    const pr = this.#insertPullRequest(repoId, fields, lazy);
    this.#reviewBlockBase.push(lazy.reviewIdBase);
    this.#reviewBlockPr.push(pr.id);
    return pr;
  }

  // ---- users, orgs, apps, installations ------------------------------------------------------

  addUser(input: {
    login: string;
    name?: string | null;
    email?: string | null;
    type?: UserType;
    id?: number;
  }): User {
    const type = input.type ?? (input.login.endsWith("[bot]") ? "Bot" : "User");
    const id = input.id ?? this.#nextUserId++;
    const user: User = {
      id,
      nodeId: encodeNodeId(type === "Bot" ? "BOT" : "U", id),
      login: input.login,
      name: input.name ?? null,
      email: input.email ?? null,
      type,
      createdAt: this.nowIso(),
    };
    this.users.set(id, user);
    this.#usersByLogin.set(user.login.toLowerCase(), user);
    this.version++;
    return user;
  }

  getUser(id: number): User | undefined {
    return this.users.get(id);
  }
  findUser(login: string): User | undefined {
    return this.#usersByLogin.get(login.toLowerCase());
  }

  addOrg(input: { login: string; id?: number }): Account {
    return this.addAccount({ ...input, type: "Organization" });
  }

  addAccount(input: { login: string; type: AccountType; id?: number }): Account {
    const id = input.id ?? this.#nextAccountId++;
    const account: Account = {
      id,
      nodeId: encodeNodeId(input.type === "Organization" ? "O" : "U", id),
      login: input.login,
      type: input.type,
      memberIds: [],
      createdAt: this.nowIso(),
    };
    this.accounts.set(id, account);
    this.version++;
    return account;
  }

  getAccount(login: string): Account | undefined {
    const lower = login.toLowerCase();
    for (const account of this.accounts.values()) if (account.login.toLowerCase() === lower) return account;
    return undefined;
  }

  addMember(orgLogin: string, userId: number): Account {
    const org = this.#mustAccount(orgLogin);
    if (!org.memberIds.includes(userId)) org.memberIds.push(userId);
    this.version++;
    return org;
  }

  /** Org roles (GitHub's "admin" or "member"); members without one are "member". */
  readonly #orgRoles = new Map<string, "admin" | "member">();

  setOrgRole(orgId: number, userId: number, role: "admin" | "member"): void {
    this.#orgRoles.set(`${orgId}:${userId}`, role);
    this.version++;
  }

  orgRoleOf(orgId: number, userId: number): "admin" | "member" {
    return this.#orgRoles.get(`${orgId}:${userId}`) ?? "member";
  }

  /** Someone who leaves the organization leaves its teams too, as on GitHub. */
  removeMember(orgLogin: string, userId: number): Account {
    const org = this.#mustAccount(orgLogin);
    org.memberIds = org.memberIds.filter((id) => id !== userId);
    for (const team of this.teams.values()) {
      if (team.orgId === org.id) team.memberIds = team.memberIds.filter((id) => id !== userId);
    }
    this.version++;
    return org;
  }

  // ---- teams ---------------------------------------------------------------------------------

  /** A new team; its slug is GitHub's: the name lower-cased, runs of other characters as "-". */
  addTeam(
    orgLogin: string,
    input: {
      name: string;
      parentId?: number | null;
      description?: string | null;
      privacy?: "closed" | "secret";
      id?: number;
    },
  ): Team {
    const org = this.#mustAccount(orgLogin);
    if (input.parentId != null) this.#mustTeam(input.parentId);
    const id = input.id ?? this.#nextTeamId++;
    const now = this.nowIso();
    const team: Team = {
      id,
      nodeId: encodeNodeId("T", id),
      orgId: org.id,
      slug: teamSlug(input.name),
      name: input.name,
      description: input.description ?? null,
      privacy: input.privacy ?? "closed",
      parentId: input.parentId ?? null,
      memberIds: [],
      createdAt: now,
      updatedAt: now,
    };
    this.teams.set(id, team);
    this.version++;
    return team;
  }

  getTeam(id: number): Team | undefined {
    return this.teams.get(id);
  }

  findTeam(orgId: number, slug: string): Team | undefined {
    for (const team of this.teams.values()) if (team.orgId === orgId && team.slug === slug) return team;
    return undefined;
  }

  /** An organization's teams as GitHub lists them: by name. */
  teamsOf(orgId: number): Team[] {
    return [...this.teams.values()]
      .filter((team) => team.orgId === orgId)
      .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()) || a.id - b.id);
  }

  /** Renames (the slug follows the name, as on GitHub), re-describes or moves a team. */
  editTeam(
    teamId: number,
    patch: { name?: string; description?: string | null; parentId?: number | null },
  ): Team {
    const team = this.#mustTeam(teamId);
    if (patch.parentId != null) {
      // GitHub refuses a parent that is the team itself or one of its descendants.
      for (let at: Team | undefined = this.#mustTeam(patch.parentId); at;) {
        if (at.id === teamId) throw new Error("a team cannot be nested under itself");
        at = at.parentId === null ? undefined : this.teams.get(at.parentId);
      }
    }
    if (patch.name !== undefined) {
      team.name = patch.name;
      team.slug = teamSlug(patch.name);
    }
    if (patch.description !== undefined) team.description = patch.description;
    if (patch.parentId !== undefined) team.parentId = patch.parentId;
    team.updatedAt = this.nowIso();
    this.version++;
    return team;
  }

  /** Deletes a team and, as GitHub does, every team under it. Returns them, the team first. */
  deleteTeam(teamId: number): Team[] {
    const deleted: Team[] = [];
    const pending = [this.#mustTeam(teamId)];
    while (pending.length > 0) {
      const team = pending.shift()!;
      this.teams.delete(team.id);
      this.deletedTeams.set(team.id, team);
      deleted.push(team);
      pending.push(...[...this.teams.values()].filter((child) => child.parentId === team.id));
    }
    this.version++;
    return deleted;
  }

  addTeamMember(teamId: number, userId: number): Team {
    const team = this.#mustTeam(teamId);
    const org = this.accounts.get(team.orgId);
    if (!org?.memberIds.includes(userId)) throw new Error(`user ${userId} is not a member of the team's org`);
    if (!team.memberIds.includes(userId)) team.memberIds.push(userId);
    this.version++;
    return team;
  }

  removeTeamMember(teamId: number, userId: number): Team {
    const team = this.#mustTeam(teamId);
    team.memberIds = team.memberIds.filter((id) => id !== userId);
    this.version++;
    return team;
  }

  /** The teams under a team, at any depth. */
  descendantsOf(teamId: number): Team[] {
    const found: Team[] = [];
    const pending = [teamId];
    while (pending.length > 0) {
      const parent = pending.shift()!;
      for (const team of this.teams.values()) {
        if (team.parentId === parent) {
          found.push(team);
          pending.push(team.id);
        }
      }
    }
    return found;
  }

  addApp(input: { id: number; slug?: string; name?: string }): App {
    const existing = this.apps.get(input.id);
    if (existing !== undefined) return existing;
    const app: App = {
      id: input.id,
      nodeId: encodeNodeId("A", input.id),
      slug: input.slug ?? `pr-pulse-${input.id}`,
      name: input.name ?? `PR Pulse ${input.id}`,
      clientId: `Iv1.${input.id.toString(16).padStart(16, "0")}`,
      permissions: { ...DEFAULT_APP_PERMISSIONS },
      events: [...DEFAULT_APP_EVENTS],
      createdAt: this.nowIso(),
    };
    this.apps.set(app.id, app);
    this.version++;
    return app;
  }

  addInstallation(input: {
    accountLogin?: string;
    accountId?: number;
    appId?: number;
    id?: number;
    repositorySelection?: "all" | "selected";
    suspended?: boolean;
  }): Installation {
    const account =
      input.accountId !== undefined
        ? this.accounts.get(input.accountId)
        : input.accountLogin !== undefined
          ? (this.getAccount(input.accountLogin) ?? this.addOrg({ login: input.accountLogin }))
          : undefined;
    if (account === undefined)
      throw new Error("addInstallation needs an existing accountId or an accountLogin");
    const app = this.addApp({ id: input.appId ?? 1 });
    const id = input.id ?? this.#nextInstallationId++;
    const now = this.nowIso();
    const installation: Installation = {
      id,
      appId: app.id,
      accountId: account.id,
      repositorySelection: input.repositorySelection ?? "selected",
      repoIds: [],
      suspended: input.suspended ?? false,
      suspendedAt: input.suspended === true ? now : null,
      permissions: { ...app.permissions },
      events: [...app.events],
      createdAt: now,
      updatedAt: now,
    };
    this.installations.set(id, installation);
    this.version++;
    return installation;
  }

  getInstallation(id: number): Installation | undefined {
    return this.installations.get(id);
  }

  suspendInstallation(id: number): Installation {
    const installation = this.#mustInstallation(id);
    installation.suspended = true;
    installation.suspendedAt = this.nowIso();
    this.revokeTokens(id);
    this.version++;
    return installation;
  }

  unsuspendInstallation(id: number): Installation {
    const installation = this.#mustInstallation(id);
    installation.suspended = false;
    installation.suspendedAt = null;
    this.version++;
    return installation;
  }

  /** The app was uninstalled: its tokens stop working and the installation disappears. */
  removeInstallation(id: number): Installation {
    const installation = this.#mustInstallation(id);
    this.installations.delete(id);
    this.deletedInstallations.set(id, installation);
    this.revokeTokens(id);
    this.version++;
    return installation;
  }

  // ---- webhook deliveries --------------------------------------------------------------------

  recordHookDelivery(attempt: Omit<HookDeliveryRecord, "id">): HookDeliveryRecord {
    const record = { ...attempt, id: this.#nextHookDeliveryId++ };
    this.hookDeliveries.push(record);
    return record;
  }

  getHookDelivery(id: number): HookDeliveryRecord | undefined {
    return this.hookDeliveries.find((record) => record.id === id);
  }

  // ---- tokens --------------------------------------------------------------------------------

  issueToken(installationId: number): IssuedToken {
    // Prefix and length of real installation tokens (ghs_ + 36 characters).
    const token = `ghs_${randomBytes(27).toString("base64url").slice(0, 36)}`;
    const issued = { token, installationId, expiresAt: new Date(Date.now() + TOKEN_LIFETIME_MS) };
    this.#tokens.set(token, issued);
    return issued;
  }

  /** The installation a live token belongs to, or undefined when unknown, expired or revoked. */
  resolveToken(token: string): IssuedToken | undefined {
    const issued = this.#tokens.get(token);
    if (issued === undefined || issued.expiresAt.getTime() <= Date.now()) return undefined;
    return this.installations.has(issued.installationId) ? issued : undefined;
  }

  /** Revokes every token (or one installation's), emulating expiry. */
  revokeTokens(installationId?: number): void {
    for (const [token, issued] of this.#tokens) {
      if (installationId === undefined || issued.installationId === installationId)
        this.#tokens.delete(token);
    }
  }

  // ---- repositories --------------------------------------------------------------------------

  addRepo(
    installationId: number,
    input: {
      name: string;
      ownerLogin?: string;
      private?: boolean;
      archived?: boolean;
      defaultBranch?: string;
      createdAt?: string;
      id?: number;
    },
  ): Repo {
    const installation = this.#mustInstallation(installationId);
    const owner = this.accounts.get(installation.accountId);
    const id = input.id ?? this.#nextRepoId++;
    const createdAt = input.createdAt ?? this.nowIso();
    const repo: Repo = {
      id,
      nodeId: encodeNodeId("R", id),
      name: input.name,
      ownerLogin: input.ownerLogin ?? owner?.login ?? "unknown",
      private: input.private ?? true,
      archived: input.archived ?? false,
      defaultBranch: input.defaultBranch ?? "main",
      createdAt,
      updatedAt: createdAt,
    };
    this.repos.set(id, repo);
    this.#pullsByRepo.set(id, []);
    installation.repoIds.push(id);
    this.version++;
    return repo;
  }

  getRepo(id: number): Repo | undefined {
    return this.repos.get(id);
  }

  findRepo(owner: string, name: string): Repo | undefined {
    const o = owner.toLowerCase();
    const n = name.toLowerCase();
    for (const repo of this.repos.values()) {
      if (repo.ownerLogin.toLowerCase() === o && repo.name.toLowerCase() === n) return repo;
    }
    return undefined;
  }

  /** Installations whose token can see this repository. */
  installationsForRepo(repoId: number): Installation[] {
    return [...this.installations.values()].filter((i) => i.repoIds.includes(repoId));
  }

  addRepoToInstallation(installationId: number, repoId: number): Installation {
    const installation = this.#mustInstallation(installationId);
    if (!installation.repoIds.includes(repoId)) installation.repoIds.push(repoId);
    this.version++;
    return installation;
  }

  removeRepoFromInstallation(installationId: number, repoId: number): Installation {
    const installation = this.#mustInstallation(installationId);
    installation.repoIds = installation.repoIds.filter((id) => id !== repoId);
    installation.repositorySelection = "selected";
    this.version++;
    return installation;
  }

  renameRepo(repoId: number, newName: string): Repo {
    return this.#touchRepo(repoId, (repo) => (repo.name = newName));
  }
  archiveRepo(repoId: number): Repo {
    return this.#touchRepo(repoId, (repo) => (repo.archived = true));
  }
  unarchiveRepo(repoId: number): Repo {
    return this.#touchRepo(repoId, (repo) => (repo.archived = false));
  }
  transferRepo(repoId: number, newOwnerLogin: string): Repo {
    return this.#touchRepo(repoId, (repo) => (repo.ownerLogin = newOwnerLogin));
  }

  /** Deletes the repository; its pull requests stay reachable by id for webhook building. */
  deleteRepo(repoId: number): Repo {
    const repo = this.#mustRepo(repoId);
    this.repos.delete(repoId);
    this.deletedRepos.set(repoId, repo);
    for (const installation of this.installations.values()) {
      installation.repoIds = installation.repoIds.filter((id) => id !== repoId);
    }
    this.version++;
    return repo;
  }

  // ---- pull requests -------------------------------------------------------------------------

  createPullRequest(repoId: number, input: Partial<PullRequestFields> & { authorId: number }): PullRequest {
    const repo = this.#mustRepo(repoId);
    const now = this.nowIso();
    const state = input.state ?? "OPEN";
    const closedAt = input.closedAt ?? (state === "OPEN" ? null : now);
    return this.#insertPullRequest(
      repoId,
      {
        title: input.title ?? "Untitled change",
        body: input.body ?? "",
        state,
        isDraft: input.isDraft ?? false,
        authorId: input.authorId,
        headRef: input.headRef ?? `feature/change-${this.#nextPullId}`,
        baseRef: input.baseRef ?? repo.defaultBranch,
        createdAt: input.createdAt ?? now,
        updatedAt: input.updatedAt ?? input.createdAt ?? now,
        closedAt,
        mergedAt: input.mergedAt ?? (state === "MERGED" ? closedAt : null),
        readyForReviewAt: input.readyForReviewAt ?? null,
        mergeCommitSha: input.mergeCommitSha ?? (state === "MERGED" ? fakeSha(this.#nextPullId) : null),
        additions: input.additions ?? 10,
        deletions: input.deletions ?? 2,
        changedFiles: input.changedFiles ?? 1,
        labels: input.labels ?? [],
      },
      null,
    );
  }

  /**
   * Adds or removes a label as GitHub's UI or API does: the pull request's updated_at moves, and
   * its labeled/unlabeled webhook carries the labels after the change (build it after this call).
   */
  setLabel(pullRequestId: number, name: string, present: boolean): PullRequest {
    const pr = this.pullRequests.get(pullRequestId);
    if (!pr) throw new Error(`no pull request ${pullRequestId}`);
    const others = pr.labels.filter((label) => label.toLowerCase() !== name.toLowerCase());
    pr.labels = present ? [...others, name] : others;
    pr.updatedAt = this.nowIso();
    this.version++;
    return pr;
  }

  getPullRequest(id: number): PullRequest | undefined {
    return this.pullRequests.get(id);
  }

  getPullRequestByNumber(repoId: number, number: number): PullRequest | undefined {
    // Numbers are assigned sequentially per repository and PRs are never deleted.
    const pr = this.#pullsByRepo.get(repoId)?.[number - 1];
    return pr?.number === number ? pr : undefined;
  }

  /** In number order; do not mutate the returned array. */
  listPullRequests(repoId: number): readonly PullRequest[] {
    return this.#pullsByRepo.get(repoId) ?? [];
  }

  /**
   * A repository's PRs filtered and sorted the way the list endpoints do it. Cached until the next
   * mutation because clients page through the same ordering many times.
   */
  queryPullRequests(repoId: number, query: PullRequestQuery = {}): readonly PullRequest[] {
    if (this.#queryCacheVersion !== this.version) {
      this.#queryCache.clear();
      this.#queryCacheVersion = this.version;
    }
    const states = query.states === undefined ? "" : [...query.states].sort().join(",");
    const key = [
      repoId,
      states,
      query.sort ?? "number",
      query.direction ?? "asc",
      query.head,
      query.base,
    ].join("|");
    const cached = this.#queryCache.get(key);
    if (cached !== undefined) return cached;
    let list = this.listPullRequests(repoId).filter(
      (pr) =>
        (query.states === undefined || query.states.includes(pr.state)) &&
        (query.head === undefined || pr.headRef === query.head) &&
        (query.base === undefined || pr.baseRef === query.base),
    );
    const field = query.sort === "created" ? "createdAt" : query.sort === "updated" ? "updatedAt" : null;
    if (field !== null) {
      // Ties broken by number so pages never overlap or skip.
      list = list.sort((a, b) => (a[field] < b[field] ? -1 : a[field] > b[field] ? 1 : a.number - b.number));
    }
    if (query.direction === "desc") list.reverse();
    this.#queryCache.set(key, list);
    return list;
  }

  updatePullRequest(prId: number, patch: Partial<PullRequestFields>): PullRequest {
    return this.#touchPull(prId, (pr) => Object.assign(pr, patch), patch.updatedAt === undefined);
  }

  addCommit(prId: number, input: Partial<Commit> = {}): Commit {
    const pr = this.#mustPull(prId);
    const author = this.users.get(input.authorUserId ?? pr.authorId);
    const now = this.nowIso();
    const commit: Commit = {
      sha: input.sha ?? fakeSha(pr.id * 1000 + pr.commitCount),
      message: input.message ?? "Address review feedback",
      authorUserId: input.authorUserId === undefined ? (author?.id ?? null) : input.authorUserId,
      authorEmail: input.authorEmail ?? author?.email ?? "dev@example.com",
      authorName: input.authorName ?? author?.name ?? author?.login ?? "Dev",
      authoredDate: input.authoredDate ?? now,
      committedDate: input.committedDate ?? input.authoredDate ?? now,
    };
    this.#touchPull(prId, (p) => p.commits.push(commit));
    return commit;
  }

  addReview(prId: number, input: Partial<Omit<Review, "id" | "nodeId">> & { authorId: number }): Review {
    const id = this.#nextReviewId++;
    const now = this.nowIso();
    const state = input.state ?? "APPROVED";
    const review: Review = {
      id,
      nodeId: encodeNodeId("PRR", id),
      authorId: input.authorId,
      state,
      submittedAt: input.submittedAt !== undefined ? input.submittedAt : state === "PENDING" ? null : now,
      updatedAt: input.updatedAt ?? now,
      body: input.body ?? "",
    };
    this.#addedReviewPr.set(id, prId);
    this.#touchPull(prId, (pr) => pr.reviews.push(review));
    return review;
  }

  /** The review and its pull request, for seeded and added reviews alike. */
  getReview(reviewId: number): { review: Review; pullRequest: PullRequest } | undefined {
    const prId = this.#addedReviewPr.get(reviewId) ?? this.#seededReviewOwner(reviewId);
    const pullRequest = prId === undefined ? undefined : this.pullRequests.get(prId);
    const review = pullRequest?.reviews.find((r) => r.id === reviewId);
    return pullRequest !== undefined && review !== undefined ? { review, pullRequest } : undefined;
  }

  dismissReview(reviewId: number): Review {
    const found = this.getReview(reviewId);
    if (found === undefined) throw new Error(`unknown review ${reviewId}`);
    found.review.state = "DISMISSED";
    found.review.updatedAt = this.nowIso();
    this.#touchPull(found.pullRequest.id, () => undefined);
    return found.review;
  }

  mergePullRequest(prId: number): PullRequest {
    return this.#touchPull(prId, (pr) => {
      const now = this.nowIso();
      pr.state = "MERGED";
      pr.isDraft = false;
      pr.closedAt = now;
      pr.mergedAt = now;
      pr.mergeCommitSha ??= fakeSha(pr.id);
    });
  }

  closePullRequest(prId: number): PullRequest {
    return this.#touchPull(prId, (pr) => {
      pr.state = "CLOSED";
      pr.closedAt = this.nowIso();
    });
  }

  reopenPullRequest(prId: number): PullRequest {
    return this.#touchPull(prId, (pr) => {
      if (pr.state === "MERGED") throw new Error("a merged pull request cannot be reopened");
      pr.state = "OPEN";
      pr.closedAt = null;
    });
  }

  markReadyForReview(prId: number, actorId?: number): PullRequest {
    return this.#touchPull(prId, (pr) => {
      pr.isDraft = false;
      pr.readyForReviewAt = this.nowIso();
      pr.timeline.push(
        this.#timelineEvent("READY_FOR_REVIEW_EVENT", pr.readyForReviewAt, actorId ?? pr.authorId),
      );
    });
  }

  convertToDraft(prId: number, actorId?: number): PullRequest {
    return this.#touchPull(prId, (pr) => {
      pr.isDraft = true;
      pr.timeline.push(this.#timelineEvent("CONVERT_TO_DRAFT_EVENT", this.nowIso(), actorId ?? pr.authorId));
    });
  }

  // ---- internals -----------------------------------------------------------------------------

  #insertPullRequest(repoId: number, fields: PullRequestFields, lazy: LazyLists | null): PullRequest {
    const list = this.#pullsByRepo.get(repoId);
    if (list === undefined) throw new Error(`unknown repo ${repoId}`);
    const id = this.#nextPullId++;
    // A PR that was made ready for review has that event in its timeline, as on GitHub.
    const timeline =
      fields.readyForReviewAt === null
        ? []
        : [this.#timelineEvent("READY_FOR_REVIEW_EVENT", fields.readyForReviewAt, fields.authorId)];
    const pr = new PullRequest(
      { ...fields, id, nodeId: encodeNodeId("PR", id), repoId, number: list.length + 1 },
      lazy,
      timeline,
    );
    list.push(pr);
    this.pullRequests.set(id, pr);
    this.version++;
    return pr;
  }

  #timelineEvent(type: TimelineEventType, createdAt: string, actorId: number | null): TimelineEvent {
    const id = this.#nextEventId++;
    return {
      id,
      nodeId: encodeNodeId(type === "READY_FOR_REVIEW_EVENT" ? "RFRE" : "CTDE", id),
      type,
      createdAt,
      actorId,
    };
  }

  #seededReviewOwner(reviewId: number): number | undefined {
    const bases = this.#reviewBlockBase;
    let lo = 0;
    let hi = bases.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((bases[mid] ?? Infinity) <= reviewId) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? undefined : this.#reviewBlockPr[found];
  }

  #touchPull(prId: number, mutate: (pr: PullRequest) => void, bump = true): PullRequest {
    const pr = this.#mustPull(prId);
    mutate(pr);
    if (bump) pr.updatedAt = this.nowIso();
    this.version++;
    return pr;
  }

  #touchRepo(repoId: number, mutate: (repo: Repo) => void): Repo {
    const repo = this.#mustRepo(repoId);
    mutate(repo);
    repo.updatedAt = this.nowIso();
    this.version++;
    return repo;
  }

  #mustPull(id: number): PullRequest {
    const pr = this.pullRequests.get(id);
    if (pr === undefined) throw new Error(`unknown pull request ${id}`);
    return pr;
  }
  #mustRepo(id: number): Repo {
    const repo = this.repos.get(id);
    if (repo === undefined) throw new Error(`unknown repo ${id}`);
    return repo;
  }
  #mustInstallation(id: number): Installation {
    const installation = this.installations.get(id);
    if (installation === undefined) throw new Error(`unknown installation ${id}`);
    return installation;
  }
  #mustTeam(id: number): Team {
    const team = this.teams.get(id);
    if (team === undefined) throw new Error(`unknown team ${id}`);
    return team;
  }
  #mustAccount(login: string): Account {
    const account = this.getAccount(login);
    if (account === undefined) throw new Error(`unknown account ${login}`);
    return account;
  }
}

/** GitHub's slug of a team name: lower case, every run of other characters one "-". */
export function teamSlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** A stable 40-hex sha derived from a number, for commits created by tests. */
export function fakeSha(n: number): string {
  let out = "";
  let h = n >>> 0;
  while (out.length < 40) {
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) + 0x9e3779b9;
    out += (h >>> 0).toString(16).padStart(8, "0");
  }
  return out.slice(0, 40);
}
