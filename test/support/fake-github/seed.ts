/**
 * Deterministic data generation for the fake GitHub: a seeded PRNG, realistic-looking organisations,
 * and the lazily generated commit/review lists of seeded pull requests.
 *
 * Commits and reviews are generated on first access from a per-PR seed (see `LazyLists`) because
 * 100,000 PRs with their lists materialised would cost hundreds of megabytes; everything they depend on
 * is captured at seed time, so the lists are identical whenever they are first read.
 */
import type {
  Account,
  Commit,
  Installation,
  LazyLists,
  PullRequestData,
  Repo,
  Review,
  ReviewState,
  User,
  World,
} from "./world.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** mulberry32: tiny, fast, good enough for test data, and identical across platforms. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hashes several integers into one 32-bit seed (murmur3 finaliser), for independent sub-streams. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

export class Rng {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }
  next(): number {
    return this.#next();
  }
  /** Inclusive on both ends. */
  int(min: number, max: number): number {
    return min + Math.floor(this.#next() * (max - min + 1));
  }
  chance(probability: number): boolean {
    return this.#next() < probability;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.#next() * items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }
  /** Log-uniform between 1 and max: most values small, a long tail, like PR sizes and lead times. */
  logUniform(max: number): number {
    return Math.exp(this.#next() * Math.log(max));
  }
  hex(length: number): string {
    let out = "";
    while (out.length < length)
      out += Math.floor(this.#next() * 4294967296)
        .toString(16)
        .padStart(8, "0");
    return out.slice(0, length);
  }
}

/** GitHub renders timestamps at second resolution without milliseconds. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const FIRST_NAMES = [
  "Ada",
  "Grace",
  "Linus",
  "Margaret",
  "Ken",
  "Barbara",
  "Dennis",
  "Frances",
  "Alan",
  "Radia",
  "Guido",
  "Hedy",
  "Edsger",
  "Katherine",
  "Donald",
  "Sophie",
  "Niklaus",
  "Adele",
  "Bjarne",
  "Joan",
];
const LAST_NAMES = [
  "Lovelace",
  "Hopper",
  "Torvalds",
  "Hamilton",
  "Thompson",
  "Liskov",
  "Ritchie",
  "Allen",
  "Turing",
  "Perlman",
  "Rossum",
  "Lamarr",
  "Dijkstra",
  "Johnson",
  "Knuth",
  "Wilson",
  "Wirth",
  "Goldberg",
];
const REPO_NAMES = [
  "api",
  "web",
  "billing-service",
  "mobile",
  "infra",
  "docs",
  "auth-service",
  "data-pipeline",
  "search",
  "notifications",
  "design-system",
  "cli",
  "gateway",
  "analytics",
  "payments",
];
const VERBS = [
  "Add",
  "Fix",
  "Refactor",
  "Remove",
  "Update",
  "Improve",
  "Handle",
  "Support",
  "Migrate",
  "Speed up",
  "Document",
  "Rename",
  "Extract",
  "Simplify",
  "Harden",
];
const THINGS = [
  "retry logic",
  "error handling",
  "pagination",
  "validation",
  "rate limiting",
  "logging",
  "feature flag",
  "timeouts",
  "queries",
  "tests",
  "config",
  "metrics",
  "permissions",
  "serializer",
  "migration",
];
const AREAS = [
  "billing",
  "auth",
  "search",
  "checkout",
  "onboarding",
  "notifications",
  "reporting",
  "api",
  "webhooks",
  "cache",
  "scheduler",
  "exports",
  "settings",
  "dashboard",
  "invoices",
];
const PACKAGES = ["lodash", "axios", "react", "typescript", "eslint", "jest", "pino", "zod", "fastify", "pg"];
const BODIES = [
  "",
  "This change is covered by the new unit tests.",
  "Follow-up to the incident review. See the linked ticket for context.",
  "Small cleanup while I was in the area; no behaviour change intended.",
  "## What\n\nImplements the agreed approach.\n\n## Why\n\nCustomers hit this weekly.\n\n## Testing\n\nCI plus a manual run against staging.",
];
const REVIEW_BODIES = [
  "",
  "",
  "LGTM",
  "Looks good to me, one nit inline.",
  "Please add a test for the edge case.",
];
const BOT_LOGINS = ["dependabot[bot]", "renovate[bot]", "github-actions[bot]"];

/** Generation knobs. Probabilities are rough shapes of real orgs, not measurements. */
const MERGED_SHARE = 0.7;
const CLOSED_SHARE = 0.12;
const RECENT_OPEN_DAYS = 2;
const RECENT_OPEN_SHARE = 0.6;
const DRAFT_SHARE_OF_OPEN = 0.25;
const MADE_READY_SHARE = 0.12;
const BOT_AUTHOR_SHARE = 0.1;
const HOTFIX_SHARE = 0.05;
const REVERT_SHARE = 0.03;
const SELF_REVIEW_SHARE = 0.08;
const BOT_REVIEW_SHARE = 0.08;
const PENDING_LAST_REVIEW_SHARE = 0.1;
const UNLINKED_COMMIT_SHARE = 0.1;
const CO_AUTHOR_COMMIT_SHARE = 0.15;
/** Lead times up to a month (log-uniform), PR sizes up to a few thousand lines. */
const MAX_LEAD_HOURS = 24 * 30;
const MAX_ADDITIONS = 3000;
/** In big orgs roughly one PR in 5,000 gets huge lists, which is what breaks naive pagination. */
const LONG_LIST_SHARE = 0.0002;
const LONG_LIST_MIN_PRS_PER_REPO = 1000;
export const LONG_REVIEW_COUNT = 120;
export const LONG_COMMIT_COUNT = 300;

export interface SeedOrgOptions {
  login: string;
  repos: number;
  prsPerRepo: number;
  /** Pull requests of each repository by position, instead of prsPerRepo for all (an org's spread). */
  prsByRepo?: readonly number[];
  members?: number;
  reviewsPerPr?: [number, number];
  commitsPerPr?: [number, number];
  /** PR createdAt is spread over the last spanDays (relative to world.now()). */
  spanDays?: number;
  installationId?: number;
  appId?: number;
  /** Guarantees PR #1 of the first repo has 120 reviews and PR #2 has 300 commits. */
  longLists?: boolean;
}

export interface SeedOrgResult {
  org: Account;
  installation: Installation;
  repos: Repo[];
  members: User[];
}

/** Everything the lazy generators need, captured once per seedOrg call and shared by its PRs. */
export interface SeedPool {
  members: readonly User[];
  bots: readonly User[];
}

export function seedOrg(world: World, options: SeedOrgOptions): SeedOrgResult {
  const seed = mixSeed(world.seed, hashString(options.login));
  const rng = new Rng(seed);
  const memberCount = options.members ?? 20;
  const [reviewsMin, reviewsMax] = options.reviewsPerPr ?? [0, 4];
  const [commitsMin, commitsMax] = options.commitsPerPr ?? [1, 6];
  const spanMs = (options.spanDays ?? 400) * DAY_MS;
  const nowMs = world.now().getTime();

  const org = world.addOrg({ login: options.login });
  const members: User[] = [];
  for (let i = 0; i < memberCount; i++) {
    const first = FIRST_NAMES[i % FIRST_NAMES.length] ?? "Dev";
    const last = LAST_NAMES[Math.floor(i / FIRST_NAMES.length + i) % LAST_NAMES.length] ?? "Eloper";
    const login = `${first}-${last}-${options.login}${i}`.toLowerCase();
    const user = world.addUser({
      login,
      name: `${first} ${last}`,
      email: `${login}@${options.login}.example.com`,
    });
    world.addMember(org.login, user.id);
    members.push(user);
  }
  const bots = BOT_LOGINS.map((login) => world.findUser(login) ?? world.addUser({ login, type: "Bot" }));
  const pool: SeedPool = { members, bots };

  const installation = world.addInstallation({
    id: options.installationId,
    appId: options.appId,
    accountLogin: org.login,
    repositorySelection: "all",
  });

  const repos: Repo[] = [];
  for (let r = 0; r < options.repos; r++) {
    const base = REPO_NAMES[r % REPO_NAMES.length] ?? "repo";
    const round = Math.floor(r / REPO_NAMES.length);
    const repo = world.addRepo(installation.id, {
      name: round === 0 ? base : `${base}-${round + 1}`,
      ownerLogin: org.login,
      private: rng.chance(0.8),
      createdAt: isoSeconds(nowMs - spanMs - rng.int(1, 365) * DAY_MS),
    });
    repos.push(repo);

    // Creation times sorted ascending so PR numbers grow with time, as on GitHub.
    const prs = options.prsByRepo?.[r] ?? options.prsPerRepo;
    const offsets = new Float64Array(prs);
    for (let i = 0; i < offsets.length; i++) offsets[i] = rng.next() * spanMs;
    offsets.sort();
    const mergedSoFar: PullRequestData[] = [];
    for (let i = 0; i < offsets.length; i++) {
      const longReviews = options.longLists === true && r === 0 && i === 0;
      const longCommits = options.longLists === true && r === 0 && i === 1;
      const randomLong = prs >= LONG_LIST_MIN_PRS_PER_REPO && rng.chance(LONG_LIST_SHARE);
      const createdMs = nowMs - spanMs + (offsets[i] ?? 0);
      const data = generatePullRequest(rng, {
        world,
        repo,
        pool,
        createdMs,
        nowMs,
        mergedSoFar,
        commitCount: longCommits || randomLong ? LONG_COMMIT_COUNT : rng.int(commitsMin, commitsMax),
        reviewCount: longReviews || randomLong ? LONG_REVIEW_COUNT : rng.int(reviewsMin, reviewsMax),
      });
      if (data.state === "MERGED") mergedSoFar.push(data);
    }
  }
  return { org, installation, repos, members };
}

interface PullRequestContext {
  world: World;
  repo: Repo;
  pool: SeedPool;
  createdMs: number;
  nowMs: number;
  mergedSoFar: PullRequestData[];
  commitCount: number;
  reviewCount: number;
}

function generatePullRequest(rng: Rng, ctx: PullRequestContext): PullRequestData {
  const { createdMs, nowMs, pool } = ctx;
  const isBot = rng.chance(BOT_AUTHOR_SHARE);
  const author = isBot ? rng.pick(pool.bots) : rng.pick(pool.members);

  let state: PullRequestData["state"];
  const roll = rng.next();
  if (nowMs - createdMs < RECENT_OPEN_DAYS * DAY_MS && rng.chance(RECENT_OPEN_SHARE)) state = "OPEN";
  else if (roll < MERGED_SHARE) state = "MERGED";
  else if (roll < MERGED_SHARE + CLOSED_SHARE) state = "CLOSED";
  else state = "OPEN";
  let closedMs: number | null = createdMs + rng.logUniform(MAX_LEAD_HOURS) * HOUR_MS;
  if (state === "OPEN" || closedMs > nowMs) {
    state = "OPEN";
    closedMs = null;
  }
  const isDraft = state === "OPEN" && !isBot && rng.chance(DRAFT_SHARE_OF_OPEN);
  const endMs = closedMs ?? Math.min(nowMs, createdMs + rng.logUniform(MAX_LEAD_HOURS) * HOUR_MS);
  let readyMs: number | null = null;
  if (!isDraft && !isBot && rng.chance(MADE_READY_SHARE)) {
    readyMs = Math.min(endMs, createdMs + rng.int(1, 72) * HOUR_MS);
  }

  const area = rng.pick(AREAS);
  const thing = rng.pick(THINGS);
  let title = `${rng.pick(VERBS)} ${thing} in ${area}`;
  let body = rng.pick(BODIES);
  let headRef = `${rng.chance(0.5) ? "feature" : "fix"}/${area}-${thing.replace(/ /g, "-")}-${rng.int(1, 999)}`;
  if (isBot) {
    const pkg = rng.pick(PACKAGES);
    const from = `${rng.int(1, 9)}.${rng.int(0, 20)}.${rng.int(0, 9)}`;
    const to = from.replace(/\.\d+$/, `.${rng.int(10, 30)}`);
    title = `Bump ${pkg} from ${from} to ${to}`;
    body = `Bumps ${pkg} from ${from} to ${to}.`;
    headRef = `dependabot/npm_and_yarn/${pkg}-${to}`;
  } else if (rng.chance(HOTFIX_SHARE)) {
    headRef = `hotfix/${area}-${rng.int(1, 999)}`;
    title = `Hotfix: ${title.charAt(0).toLowerCase()}${title.slice(1)}`;
  } else if (ctx.mergedSoFar.length > 0 && rng.chance(REVERT_SHARE)) {
    // Revert one of the recent merges, the way GitHub's "Revert" button words it.
    const recent = ctx.mergedSoFar.slice(-50);
    const reverted = rng.pick(recent);
    title = `Revert "${reverted.title}"`;
    body = `This reverts commit ${reverted.mergeCommitSha ?? rng.hex(40)}.`;
    headRef = `revert-${reverted.number}-${reverted.headRef}`;
  }

  const additions = Math.floor(rng.logUniform(MAX_ADDITIONS));
  const deletions = Math.floor(additions * rng.next() * 0.8);
  const changedFiles = 1 + Math.floor(rng.next() * Math.min(50, additions / 10));
  const updatedMs = closedMs !== null ? closedMs + rng.int(0, 3600) * 1000 : endMs;

  return ctx.world.insertSeededPullRequest(
    ctx.repo.id,
    {
      title,
      body,
      state,
      isDraft,
      authorId: author.id,
      headRef,
      baseRef: ctx.repo.defaultBranch,
      createdAt: isoSeconds(createdMs),
      updatedAt: isoSeconds(Math.min(nowMs, updatedMs)),
      closedAt: closedMs === null ? null : isoSeconds(closedMs),
      mergedAt: state === "MERGED" && closedMs !== null ? isoSeconds(closedMs) : null,
      readyForReviewAt: readyMs === null ? null : isoSeconds(readyMs),
      mergeCommitSha: state === "MERGED" ? rng.hex(40) : null,
      additions,
      deletions,
      changedFiles,
    },
    {
      seed: rng.int(0, 0xffffffff),
      commitCount: ctx.commitCount,
      reviewCount: ctx.reviewCount,
      startMs: createdMs,
      endMs: Math.max(createdMs, Math.min(nowMs, updatedMs)),
      authorId: author.id,
      pool,
      reviewIdBase: 0, // assigned by the world when it reserves the id block
    },
  );
}

export function generateCommits(lazy: LazyLists): Commit[] {
  const rng = new Rng(mixSeed(lazy.seed, 1));
  const { pool } = lazy;
  const author =
    pool.members.find((u) => u.id === lazy.authorId) ?? pool.bots.find((u) => u.id === lazy.authorId);
  const commits: Commit[] = [];
  // Work starts up to two days before the PR is opened and continues until it closes.
  const startMs = lazy.startMs - rng.int(1, 48) * HOUR_MS;
  const stepMs = Math.max(1000, (lazy.endMs - startMs) / (lazy.commitCount + 1));
  for (let i = 0; i < lazy.commitCount; i++) {
    const committer =
      author === undefined || (author.type === "User" && rng.chance(CO_AUTHOR_COMMIT_SHARE))
        ? rng.pick(pool.members)
        : author;
    const linked = !rng.chance(UNLINKED_COMMIT_SHARE);
    const authoredMs = startMs + stepMs * (i + rng.next());
    commits.push({
      sha: rng.hex(40),
      message: `${rng.pick(VERBS)} ${rng.pick(THINGS)}`,
      authorUserId: linked ? committer.id : null,
      authorEmail: committer.email ?? `${committer.id}+${committer.login}@users.noreply.github.com`,
      authorName: committer.name ?? committer.login,
      authoredDate: isoSeconds(authoredMs),
      committedDate: isoSeconds(authoredMs + rng.int(0, 600) * 1000),
    });
  }
  return commits;
}

export function generateReviews(lazy: LazyLists, nodeIdFor: (reviewId: number) => string): Review[] {
  const rng = new Rng(mixSeed(lazy.seed, 2));
  const { pool } = lazy;
  const reviews: Review[] = [];
  const spanMs = Math.max(1000, lazy.endMs - lazy.startMs);
  let lastMs = lazy.startMs;
  for (let i = 0; i < lazy.reviewCount; i++) {
    let authorId: number;
    let state: ReviewState;
    const roll = rng.next();
    if (roll < SELF_REVIEW_SHARE) {
      // GitHub refuses to let authors approve their own PRs, so self-reviews are comments.
      authorId = lazy.authorId;
      state = "COMMENTED";
    } else if (roll < SELF_REVIEW_SHARE + BOT_REVIEW_SHARE) {
      authorId = rng.pick(pool.bots).id;
      state = "COMMENTED";
    } else {
      authorId = rng.pick(pool.members).id;
      const s = rng.next();
      state = s < 0.5 ? "APPROVED" : s < 0.75 ? "COMMENTED" : s < 0.93 ? "CHANGES_REQUESTED" : "DISMISSED";
    }
    const isLast = i === lazy.reviewCount - 1;
    if (isLast && rng.chance(PENDING_LAST_REVIEW_SHARE)) state = "PENDING";
    lastMs = Math.min(lazy.endMs, lastMs + rng.next() * ((2 * spanMs) / (lazy.reviewCount + 1)));
    const id = lazy.reviewIdBase + i;
    reviews.push({
      id,
      nodeId: nodeIdFor(id),
      authorId,
      state,
      submittedAt: state === "PENDING" ? null : isoSeconds(lastMs),
      updatedAt: isoSeconds(lastMs),
      body: rng.pick(REVIEW_BODIES),
    });
  }
  return reviews;
}

/** FNV-1a, to turn an org login into part of the seed. */
function hashString(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
