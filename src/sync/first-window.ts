import { readAppState, writeAppState } from "../db/queries/app-state.js";
import { findRepository, listFirstWindowsPending, updateRepository } from "../db/queries/repositories.js";
import type { Repository } from "../db/schema/index.js";
import { RateLimitedError } from "../errors.js";
import { failedNodeIndexes } from "../github/client.js";
import {
  backfillCutoff,
  backfillPage,
  firstWindowStart,
  FIRST_WINDOW_DAYS,
  storeBackfillPage,
} from "./backfill.js";
import { MAX_NODE_IDS, MAX_PAGE_SIZE } from "./page-size.js";
import { pageOf } from "./pull-requests.js";
import type { SyncContext } from "./sync-context.js";

/**
 * The first insight: every repository's last FIRST_WINDOW_DAYS before any repository goes deeper,
 * each window fetched for what it holds. One step for the whole installation:
 *
 *   1. count each window (one query for a hundred repositories, 1 point);
 *   2. fetch the windows as first pages sized to them (count + 1: the one older pull request shows
 *      the window is complete), many repositories a query, packed by size so a small repository
 *      pays its share of a point instead of a point of its own;
 *   3. page on through the windows longer than a page, a repository at a time.
 *
 * A repository this step could not fetch is left to its own backfill job, which records the error.
 */

/**
 * Connections each listed pull request opens (timelineItems, reviews, commits, labels in
 * PullRequestFields), each counted as a request at its page bound in GitHub's cost formula.
 */
const REQUESTS_PER_PR = 4;
/**
 * The most requests one query packs: 949 cost 9 points and list up to ~235 pull requests with their
 * reviews and commits. Bigger queries risk GitHub's timeout; a failed one leaves its repositories
 * to page alone.
 */
const MAX_REQUESTS_PER_QUERY = 949;

/**
 * A window counted this recently is not counted again. A step that reaches its slice's end leaves
 * the first pages it did not fetch to the next step, which counted them again: the newest hundred
 * creation times of every busy repository, each slice (bench:first-insight, 50 repositories: 5
 * counts, 11,000 objects, a quarter of the step's time at the latency model). An older count is
 * taken again: the pull requests opened since would leave its page short of the window (a query
 * more), and a rate-limit pause can hold the step back for an hour.
 */
const COUNT_REUSE_MS = 10 * 60_000;

/** Windows counted for an installation's next steps: first page size and when, by repository id. */
type CountedWindows = Record<string, { size: number; countedAt: number }>;
const countedWindowsKey = (installationId: number) => `first-window-sizes:${installationId}`;

/** GitHub's formula: requests divided by 100 and rounded, at least 1. */
const pointsOf = (requests: number) => Math.max(1, Math.round(requests / 100));
/** Requests of a query listing `repos` first pages of `size` pull requests. */
const requestsOf = (repos: number, size: number) => repos * (1 + REQUESTS_PER_PR * size);

export interface FirstPage {
  repo: Repository;
  /** Pull requests to ask for: the window's and one more, at most a page. */
  size: number;
}

/** Works until no tracked repository of the installation lacks its first window. */
export async function backfillFirstWindows(
  ctx: SyncContext,
  options: { parallel: number; stopping?: AbortSignal | undefined; until: number },
): Promise<void> {
  const go = () => Date.now() < options.until && !options.stopping?.aborted;
  const skipped = new Set<number>();
  const pending = await listFirstWindowsPending(ctx.database.db, ctx.installationId);
  if (pending.length === 0) return;
  await markStarted(ctx, pending);

  const fresh = pending.filter((repo) => repo.backfillCursor === null && repo.nodeId);
  const sizes = await sizeFirstPages(ctx, fresh);
  const queries = packFirstPages(sizes);
  await inParallel(queries, options.parallel, go, (pages) => fetchFirstPages(ctx, pages, skipped));

  // Windows longer than a page (or left by a failed query): page on, one repository at a time.
  const longer = (await listFirstWindowsPending(ctx.database.db, ctx.installationId)).filter(
    (repo) => !skipped.has(repo.id),
  );
  await inParallel(longer, options.parallel, go, (repo) => finishWindow(ctx, repo.id, skipped, go));
}

/** Shows the repositories as syncing from now: their ETA counts this run. */
async function markStarted(ctx: SyncContext, repos: Repository[]): Promise<void> {
  const now = ctx.now();
  for (const repo of repos.filter((entry) => entry.syncStatus === "queued")) {
    await updateRepository(ctx.database.db, repo.id, {
      syncStatus: "syncing",
      syncStartedAt: repo.syncStartedAt ?? now,
      runPrsStart: repo.prsDone,
      runPausedSeconds: 0,
    });
    Object.assign(repo, { syncStatus: "syncing", syncStartedAt: repo.syncStartedAt ?? now });
  }
}

/**
 * Each repository's first page, sized to the pull requests its first window holds, counted from
 * the creation times of its newest hundred (one query per hundred repositories, 1 point), unless
 * an earlier step counted it within COUNT_REUSE_MS. A repository GitHub did not answer for is
 * asked a full page.
 */
export async function sizeFirstPages(ctx: SyncContext, repos: Repository[]): Promise<FirstPage[]> {
  const now = ctx.now();
  const windowDays = ctx.firstWindowDays ?? FIRST_WINDOW_DAYS;
  const key = countedWindowsKey(ctx.installationId);
  const earlier = (await readAppState<CountedWindows>(ctx.database.db, key)) ?? {};
  const counted: CountedWindows = {};
  const pages: FirstPage[] = [];
  const uncounted: Repository[] = [];
  for (const repo of repos) {
    const count = earlier[repo.id];
    if (count && now.getTime() - count.countedAt < COUNT_REUSE_MS) {
      counted[repo.id] = count;
      pages.push({ repo, size: count.size });
    } else uncounted.push(repo);
  }
  for (let start = 0; start < uncounted.length; start += MAX_NODE_IDS) {
    const batch = uncounted.slice(start, start + MAX_NODE_IDS);
    ctx.client.assertBudget(ctx.reservePercent);
    const { data, errors } = await ctx.client.graphqlPartial("repository-window-sizes", {
      ids: batch.map((repo) => repo.nodeId!),
      first: MAX_PAGE_SIZE,
    });
    const failed = failedNodeIndexes(errors);
    for (const [index, repo] of batch.entries()) {
      const node = data.nodes[index];
      const cutoff = backfillCutoff(repo, ctx.settings.defaultSyncDepth, now);
      const since = firstWindowStart(repo, cutoff, now, windowDays) ?? cutoff;
      if (!failed || failed.has(index) || !node || !("pullRequests" in node) || !since) {
        pages.push({ repo, size: MAX_PAGE_SIZE });
        continue;
      }
      const created = (node.pullRequests.nodes ?? []).filter((pr) => pr && new Date(pr.createdAt) >= since);
      const size = Math.min(MAX_PAGE_SIZE, created.length + 1);
      counted[repo.id] = { size, countedAt: now.getTime() };
      pages.push({ repo, size });
    }
  }
  // Only the repositories still waiting for their first page: the others' counts are spent.
  if (uncounted.length > 0) await writeAppState(ctx.database.db, key, counted);
  return pages;
}

/**
 * First pages packed into queries: smallest first, so each query's page size (its largest
 * window's) fits its other repositories closely. A repository joins the query unless that makes it
 * too big, or costs more than a query of its own would (GitHub rounds each query's cost).
 */
export function packFirstPages(pages: FirstPage[]): FirstPage[][] {
  const queries: FirstPage[][] = [];
  let current: FirstPage[] = [];
  for (const page of [...pages].sort((a, b) => a.size - b.size)) {
    const joined = requestsOf(current.length + 1, page.size);
    const apart = pointsOf(requestsOf(current.length, page.size)) + pointsOf(requestsOf(1, page.size));
    const full = joined > MAX_REQUESTS_PER_QUERY || current.length >= MAX_NODE_IDS;
    if (current.length > 0 && (full || pointsOf(joined) > apart)) {
      queries.push(current);
      current = [];
    }
    current.push(page);
  }
  if (current.length > 0) queries.push(current);
  return queries;
}

/** One query for the first pages of several repositories, each stored as its backfill's page. */
async function fetchFirstPages(ctx: SyncContext, pages: FirstPage[], skipped: Set<number>): Promise<void> {
  const size = Math.max(...pages.map((page) => page.size));
  let answer;
  try {
    ctx.client.assertBudget(ctx.reservePercent);
    answer = await ctx.client.graphqlPartial("repositories-first-pages", {
      ids: pages.map((page) => page.repo.nodeId!),
      first: size,
    });
  } catch (error) {
    if (error instanceof RateLimitedError) throw error;
    // Say, GitHub timed out on the query: each repository pages on its own, with adaptive sizes.
    ctx.log.warn({ err: error, repos: pages.length }, "first pages query failed; repositories page alone");
    return;
  }
  const failed = failedNodeIndexes(answer.errors);
  for (const [index, { repo }] of pages.entries()) {
    const node = answer.data.nodes[index];
    if (!failed || failed.has(index) || !node || !("pullRequests" in node)) continue;
    const page = pageOf(node.pullRequests, Math.min(MAX_PAGE_SIZE, Math.max(repo.pageSize, size)));
    await storeOrSkip(ctx, repo, skipped, () => storeBackfillPage(ctx, repo, page, ctx.now()));
  }
}

/** Pages one repository until its first window is in (or its backfill is done). */
async function finishWindow(
  ctx: SyncContext,
  repoId: number,
  skipped: Set<number>,
  go: () => boolean,
): Promise<void> {
  while (go()) {
    const repo = await findRepository(ctx.database.db, repoId);
    if (!repo || repo.backfilledSince !== null || repo.syncStatus === "complete") return;
    const step = await storeOrSkip(ctx, repo, skipped, () => backfillPage(ctx, repo));
    if (step !== "more") return;
  }
}

/** Runs a repository's page; any failure but a rate limit leaves the repository to its own job. */
async function storeOrSkip<T>(
  ctx: SyncContext,
  repo: Repository,
  skipped: Set<number>,
  work: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RateLimitedError) throw error;
    skipped.add(repo.id);
    ctx.log.warn({ err: error, repoId: repo.id }, "first window page failed; left to the repository's job");
    return undefined;
  }
}

/** Runs `work` over `items`, `parallel` at a time, starting none once `go` says stop. */
async function inParallel<T>(
  items: T[],
  parallel: number,
  go: () => boolean,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  const lanes = Array.from({ length: Math.max(1, Math.min(parallel, queue.length)) }, async () => {
    for (let item = queue.shift(); item !== undefined && go(); item = queue.shift()) await work(item);
  });
  await Promise.all(lanes);
}
