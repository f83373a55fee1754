import { setTimeout as sleep } from "node:timers/promises";
import { LOCK_NAMESPACE, withAdvisoryLock, withFreeAdvisoryLocks } from "../db/client.js";
import { deleteAppState, mergeAppState, readAppState } from "../db/queries/app-state.js";
import { storedPullRequestSpan } from "../db/queries/pull-requests.js";
import { listFirstWindowsPending, updateRepository } from "../db/queries/repositories.js";
import type { Repository } from "../db/schema/index.js";
import { RateLimitedError } from "../errors.js";
import { failedFields, failedNodeIndexes } from "../github/client.js";
import {
  backfillCutoff,
  backfillPage,
  firstWindowStart,
  FIRST_WINDOW_DAYS,
  isBackfillCovered,
  storeBackfillPage,
} from "./backfill.js";
import { MAX_NODE_IDS, MAX_PAGE_SIZE } from "./page-size.js";
import { pageOf } from "./pull-requests.js";
import type { SyncContext } from "./sync-context.js";

/**
 * The first insight: every repository's last FIRST_WINDOW_DAYS before any repository goes deeper,
 * each window fetched for what it holds. The step is the installation's; its work comes in units:
 *
 *   1. count the windows: the creation times of each repository's newest FIRST_COUNT, then, for
 *      those whose FIRST_COUNT are all inside the window, of their newest hundred (1 point each);
 *   2. fetch the windows as first pages sized to them (count + 1: the one older pull request shows
 *      the window is complete), many repositories a query, packed by size so a small repository
 *      pays its share of a point instead of a point of its own;
 *   3. page through the windows that fill a page, the next pages of two windows a unit (one
 *      query: the installation's queries start a second apart), each sized to what is left of its
 *      window: one lane at a time while another has other work.
 *
 * Every backfill job of the installation that finds windows pending works the step as a lane,
 * under its own GitHub slot: the step has as many queries in flight as the installation's jobs hold
 * slots, never more. A lane claims a unit with advisory locks before its query (each repository's
 * backfill lock, which its own job pages under; a count lock per repository) and reads the
 * repositories again inside the claim, so no repository is fetched by two lanes, or by a lane and
 * its own job, whatever the replica. A lane that dies lets go of its claims with its connection;
 * its unit is worked again from what was stored.
 *
 * A repository a lane could not fetch is left to its own backfill job, which records the error.
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
 * A window counted this recently is not counted again. A lane that reaches its slice's end leaves
 * the first pages it did not fetch to the next lane, which counted them again: the newest hundred
 * creation times of every busy repository, each slice (bench:first-insight, 50 repositories: 5
 * counts, 11,000 objects, a quarter of the step's time at the latency model). An older count is
 * taken again: the pull requests opened since would leave its page short of the window (a query
 * more), and a rate-limit pause can hold the step back for an hour.
 */
const COUNT_REUSE_MS = 10 * 60_000;

/**
 * A lane with no unit to claim (the rest are other lanes' queries in flight) looks again this
 * often: a query of the step takes 0.5–3 s, and the repositories go deeper only once it is in.
 */
const CLAIMED_WAIT_MS = 250;

/**
 * Standard deviations of the estimate added to a window's last page: the pull requests left are
 * counted by pace, and one too few costs a query more (a point and a round trip), one too many
 * only 4 requests of the formula.
 */
const PACE_MARGIN_SDS = 2;

/**
 * Creation times the first count asks of each repository. Most windows hold fewer and are sized
 * at once (bench:first-insight, 50 repositories: 36 of them); the others are counted again to a
 * page, unless their newest FIRST_COUNT already show at their pace that the window fills one. Asking
 * every repository for a hundred returned 4,045 objects (4.6 s in two lanes at the bench's latency
 * model) before any first page could be sized.
 */
const FIRST_COUNT = 40;

/**
 * Fewer uncounted windows than this are counted in one query, not a query a lane: the count returns
 * up to a hundred creation times a repository, and sharing out fewer than 20 repositories saves
 * under 2 s at bench:first-insight's latency (2.1 ms an object) for a point more.
 */
const MIN_REPOS_TO_SHARE_COUNT = 20;

/**
 * A window's count: its first page's size, null when the count's `first` (the newest it asked,
 * FIRST_COUNT) were all inside the window, which is then counted again to a page.
 */
interface Count {
  size: number | null;
  first: number;
}
/**
 * Windows counted for an installation's lanes, and when, by repository id. Counts stored before
 * the count had two stages have no `first`: they were counted to a page.
 */
type CountedWindows = Record<string, { size: number | null; first?: number; countedAt: number }>;
const countedWindowsKey = (installationId: number) => `first-window-sizes:${installationId}`;

/** GitHub's formula: requests divided by 100 and rounded, at least 1. */
const pointsOf = (requests: number) => Math.max(1, Math.round(requests / 100));
/** Requests of a query listing `repos` first pages of `size` pull requests. */
const requestsOf = (repos: number, size: number) => repos * (1 + REQUESTS_PER_PR * size);

/** A repository's first page: the pull requests to ask for, the window's and one more, at most a page. */
export interface FirstPage {
  repo: Repository;
  size: number;
}

/** A counted window in the packing, by repository id. */
export interface CountedWindow {
  id: number;
  size: number;
}

export interface LaneOptions {
  /** The installation's GitHub slots: the lanes that may work the step at once. */
  lanes: number;
  stopping?: AbortSignal | undefined;
  until: number;
}

/** What a lane leaves behind: every first window in, or some still pending when its time ran out. */
export type LaneEnd = "in" | "pending";

/** A lane of the step: works units until no tracked repository of the installation lacks its first window. */
export async function backfillFirstWindows(ctx: SyncContext, options: LaneOptions): Promise<LaneEnd> {
  const go = () => Date.now() < options.until && !options.stopping?.aborted;
  const lane: Lane = { ctx, lanes: options.lanes, skipped: new Set(), alone: new Set() };
  let worked = false;
  while (go()) {
    const pending = await listPending(lane);
    if (pending.length === 0) {
      // Every window the counts sized is in: they are spent.
      if (worked) await deleteAppState(ctx.database.db, countedWindowsKey(ctx.installationId));
      return "in";
    }
    worked = true;
    await markStarted(ctx, pending);
    if (!(await workNextUnit(lane, pending))) await sleep(CLAIMED_WAIT_MS);
  }
  return "pending";
}

interface Lane {
  ctx: SyncContext;
  lanes: number;
  /** Repositories whose page failed in this lane: left to their own jobs. */
  skipped: Set<number>;
  /** Repositories whose packed first page failed: they page alone. */
  alone: Set<number>;
}

/** Repositories still waiting for their first window, but those this lane left to their jobs. */
async function listPending(lane: Lane): Promise<Repository[]> {
  const pending = await listFirstWindowsPending(lane.ctx.database.db, lane.ctx.installationId);
  return pending.filter((repo) => !lane.skipped.has(repo.id));
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
 * Claims and works one unit. The windows that fill a page are the longest chains (each page
 * follows the one before), so one lane pages through them from the first count on; the other lanes
 * count and fetch the packed first pages meanwhile, and page only when nothing else is left. Two
 * lanes on 100-PR pages would both wait on the installation's GraphQL pacing (a query starting a
 * second; such a page takes 1.7 s at bench:first-insight's latency). False when every unit left
 * is another lane's.
 */
async function workNextUnit(lane: Lane, pending: Repository[]): Promise<boolean> {
  const paging = (repo: Repository) =>
    repo.backfillCursor !== null || !repo.nodeId || lane.alone.has(repo.id);
  const started = pending.filter(paging);
  const fresh = pending.filter((repo) => !paging(repo));
  const chainLane = await withAdvisoryLock(
    lane.ctx.database,
    LOCK_NAMESPACE.firstWindowChain,
    String(lane.ctx.installationId),
    () => pageWindows(lane, started),
  );
  if (chainLane.locked && chainLane.value) return true;
  if (await workFreshWindows(lane, fresh)) return true;
  return pageWindows(lane, started);
}

/**
 * The fresh windows' next unit, once every window is counted that far (packing fewer windows costs
 * more points): the first count, the second (it sizes the windows the first could not, whose
 * queries are the longest), then the first pages, packed.
 */
async function workFreshWindows(lane: Lane, fresh: Repository[]): Promise<boolean> {
  const counts = await readCounts(lane.ctx);
  const uncounted = fresh.filter((repo) => !counts.has(repo.id));
  if (uncounted.length > 0) return countWindows(lane, uncounted, FIRST_COUNT);
  const recount = fresh.filter((repo) => counts.get(repo.id)!.size === null);
  if (recount.length > 0 && (await countWindows(lane, recount, MAX_PAGE_SIZE))) return true;
  const sizedBy = (first: number) =>
    [...counts].flatMap(([id, count]) =>
      count.first === first && count.size !== null ? [{ id, size: count.size }] : [],
    );
  return fetchAQueryOfFirstPages(lane, fresh, packFirstPages([sizedBy(FIRST_COUNT), sizedBy(MAX_PAGE_SIZE)]));
}

/** Counts made within COUNT_REUSE_MS, by repository id. */
async function readCounts(ctx: SyncContext): Promise<Map<number, Count>> {
  const now = ctx.now().getTime();
  const stored =
    (await readAppState<CountedWindows>(ctx.database.db, countedWindowsKey(ctx.installationId))) ?? {};
  return new Map(
    Object.entries(stored)
      .filter(([, count]) => now - count.countedAt < COUNT_REUSE_MS)
      .map(([id, count]) => [Number(id), { size: count.size, first: count.first ?? MAX_PAGE_SIZE }]),
  );
}

/**
 * Claims this lane's share of the windows to count (one lane's in `lanes`, every other one, so a
 * run of busy repositories is split too) and counts, to their newest `first`, those no lane
 * counted that far meanwhile.
 */
async function countWindows(lane: Lane, repos: Repository[], first: number): Promise<boolean> {
  const shared = repos.length >= MIN_REPOS_TO_SHARE_COUNT;
  const lanes = shared ? lane.lanes : 1;
  const share = Math.min(MAX_NODE_IDS, Math.ceil(repos.length / lanes));
  const interleaved = [...repos.entries()]
    .sort(([a], [b]) => (a % lanes) - (b % lanes) || a - b)
    .map(([, repo]) => repo);
  const ids = interleaved.map((repo) => String(repo.id));
  const countedBefore = (counts: Map<number, Count>, repo: Repository) =>
    first === FIRST_COUNT ? counts.has(repo.id) : (counts.get(repo.id)?.size ?? null) !== null;
  // Not shared, the first repository's lock stands for them all: a lane taking the locks one by
  // one while another does would split the count in two queries (a point more).
  const claim = await withFreeAdvisoryLocks(
    lane.ctx.database,
    LOCK_NAMESPACE.firstWindowCount,
    shared ? ids : ids.slice(0, 1),
    async (held) => {
      const counts = await readCounts(lane.ctx);
      const mine = interleaved.filter(
        (repo) => (!shared || held.includes(String(repo.id))) && !countedBefore(counts, repo),
      );
      const sizes = await countFirstPages(lane.ctx, mine, first);
      if (sizes.length === 0) return false;
      const countedAt = lane.ctx.now().getTime();
      const entries = Object.fromEntries(
        sizes.map(({ repo, size }) => [repo.id, { size, first, countedAt }]),
      );
      await mergeAppState(lane.ctx.database.db, countedWindowsKey(lane.ctx.installationId), entries);
      return true;
    },
    share,
  );
  return claim.locked && claim.value;
}

/**
 * Each repository's first page, sized to the pull requests its first window holds, counted from
 * the creation times of its newest `first` (one query, 1 point). Null when all `first` are inside
 * the window and their pace does not show that it fills a page. A repository GitHub did not answer
 * for is asked a full page.
 */
async function countFirstPages(
  ctx: SyncContext,
  repos: Repository[],
  first: number,
): Promise<{ repo: Repository; size: number | null }[]> {
  if (repos.length === 0) return [];
  const now = ctx.now();
  const windowDays = ctx.firstWindowDays ?? FIRST_WINDOW_DAYS;
  ctx.client.assertBudget(ctx.reservePercent);
  const { data, errors } = await ctx.client.graphqlPartial("repository-window-sizes", {
    ids: repos.map((repo) => repo.nodeId!),
    first,
  });
  const failed = failedNodeIndexes(errors);
  return repos.map((repo, index) => {
    const node = data.nodes[index];
    const cutoff = backfillCutoff(repo, ctx.settings.defaultSyncDepth, now);
    const since = firstWindowStart(repo, cutoff, now, windowDays) ?? cutoff;
    if (!failed || failed.has(index) || !node || !("pullRequests" in node) || !since) {
      return { repo, size: MAX_PAGE_SIZE };
    }
    const newest = (node.pullRequests.nodes ?? []).flatMap((pr) => (pr ? [new Date(pr.createdAt)] : []));
    return { repo, size: firstPageSize(newest, first, since, now) };
  });
}

/**
 * A first page from a window's newest `first` creation times: the window and one more when they
 * reach past its start (or are all there is), a full page when they fill one or show at their pace
 * that the window does, else null (count again to a page).
 */
export function firstPageSize(newest: Date[], first: number, since: Date, now: Date): number | null {
  const inside = newest.filter((created) => created >= since);
  if (inside.length < first || newest.length < first || first >= MAX_PAGE_SIZE) {
    return Math.min(MAX_PAGE_SIZE, inside.length + 1);
  }
  const spanMs = Math.max(1, now.getTime() - inside.at(-1)!.getTime());
  const atPace = (inside.length * (now.getTime() - since.getTime())) / spanMs;
  return atPace - PACE_MARGIN_SDS * Math.sqrt(atPace) >= MAX_PAGE_SIZE ? MAX_PAGE_SIZE : null;
}

/**
 * First pages packed into queries, each group apart (each count's windows: the second count's sizes
 * must not regroup the first's windows in a query in flight): smallest first, so each query's page size (its largest
 * window's) fits its other repositories closely. A repository joins the query unless that makes it
 * too big, or costs more than a point over a query of its own (GitHub rounds each query's cost, so
 * two queries of 1.3 points cost 2 and one of 2.6 costs 3): a query of its own costs a second of
 * the installation's GraphQL pacing too, one query starting a second (bench:first-insight: 7 such
 * queries in a row of 1 point each, 7 s, where 2 queries would have cost 1 point more). The queries
 * come longest first, so that the last ones to finish are short: those with a full page (its window
 * pages on after it), then by requests.
 */
export function packFirstPages(groups: CountedWindow[][]): CountedWindow[][] {
  const queries = groups.flatMap(packGroup);
  // The longest work first: a full page's window pages on after it, then the most requests.
  const work = (query: CountedWindow[]) =>
    (query.at(-1)!.size >= MAX_PAGE_SIZE ? MAX_REQUESTS_PER_QUERY : 0) +
    requestsOf(query.length, query.at(-1)!.size);
  return queries.sort((a, b) => work(b) - work(a));
}

function packGroup(pages: CountedWindow[]): CountedWindow[][] {
  const queries: CountedWindow[][] = [];
  let current: CountedWindow[] = [];
  for (const page of [...pages].sort((a, b) => a.size - b.size || a.id - b.id)) {
    const joined = requestsOf(current.length + 1, page.size);
    const apart = pointsOf(requestsOf(current.length, page.size)) + pointsOf(requestsOf(1, page.size));
    const full = joined > MAX_REQUESTS_PER_QUERY || current.length >= MAX_NODE_IDS;
    if (current.length > 0 && (full || pointsOf(joined) > apart + 1)) {
      queries.push(current);
      current = [];
    }
    current.push(page);
  }
  if (current.length > 0) queries.push(current);
  return queries;
}

/**
 * Claims the first query whose repositories are not all another lane's, and fetches the first
 * pages of those it holds that are still waiting for theirs.
 */
async function fetchAQueryOfFirstPages(
  lane: Lane,
  fresh: Repository[],
  packed: CountedWindow[][],
): Promise<boolean> {
  const { ctx } = lane;
  // Packed from every window counted, fetched or not, so each lane packs the same queries all along
  // (packing what is left would regroup the windows of another lane's query in flight).
  const waiting = new Map(fresh.map((repo) => [repo.id, repo]));
  const queries = packed
    .map((query) =>
      query.flatMap(({ id, size }) => (waiting.has(id) ? [{ repo: waiting.get(id)!, size }] : [])),
    )
    .filter((query) => query.length > 0);
  for (const pages of queries) {
    const ids = pages.map((page) => String(page.repo.id));
    const claim = await withFreeAdvisoryLocks(ctx.database, LOCK_NAMESPACE.backfill, ids, async (held) => {
      const unfetched = new Map(
        (await listPending(lane))
          .filter((repo) => repo.backfillCursor === null)
          .map((repo) => [repo.id, repo]),
      );
      const mine = pages.flatMap((page) => {
        const repo = unfetched.get(page.repo.id);
        return repo && held.includes(String(repo.id)) ? [{ repo, size: page.size }] : [];
      });
      if (mine.length === 0) return false;
      await fetchFirstPages(lane, mine);
      return true;
    });
    if (claim.locked && claim.value) return true;
  }
  return false;
}

/** One query for the first pages of several repositories, each stored as its backfill's page. */
async function fetchFirstPages(lane: Lane, pages: FirstPage[]): Promise<void> {
  const { ctx } = lane;
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
    for (const { repo } of pages) lane.alone.add(repo.id);
    return;
  }
  const failed = failedNodeIndexes(answer.errors);
  for (const [index, { repo }] of pages.entries()) {
    const node = answer.data.nodes[index];
    if (!failed || failed.has(index) || !node || !("pullRequests" in node)) {
      lane.alone.add(repo.id);
      continue;
    }
    const page = pageOf(node.pullRequests, Math.min(MAX_PAGE_SIZE, Math.max(repo.pageSize, size)));
    await storeOrSkip(lane, repo, () => storeBackfillPage(ctx, repo, page, ctx.now()));
  }
}

/**
 * Claims up to two windows that page on (their first page is in, or they page alone), the busiest
 * first, and fetches their next pages: both in one query when both page on from a cursor
 * (bench:first-insight: the paced query starts are what the step waits on), else the first alone.
 */
async function pageWindows(lane: Lane, started: Repository[]): Promise<boolean> {
  const { ctx } = lane;
  const busiest = [...started].sort((a, b) => (b.prsTotal ?? 0) - (a.prsTotal ?? 0) || a.id - b.id);
  const claim = await withFreeAdvisoryLocks(
    ctx.database,
    LOCK_NAMESPACE.backfill,
    busiest.map((repo) => String(repo.id)),
    async (held) => {
      const pending = new Map((await listPending(lane)).map((repo) => [String(repo.id), repo]));
      const [first, second] = held.flatMap((id) => pending.get(id) ?? []);
      if (!first) return false;
      if (second && pairable(lane, first) && pairable(lane, second)) {
        await fetchNextPages(lane, [first, second]);
        return true;
      }
      const limit = await windowPageSize(ctx, first);
      await storeOrSkip(lane, first, () => backfillPage(ctx, first, { limit }));
      return true;
    },
    WINDOWS_A_QUERY,
  );
  return claim.locked && claim.value;
}

/** The windows a query of next pages asks for (RepositoriesNextPages' two aliases). */
const WINDOWS_A_QUERY = 2;

/** A window whose next page can share a query: it pages on from a cursor, short of its cutoff. */
function pairable(lane: Lane, repo: Repository): boolean {
  const cutoff = backfillCutoff(repo, lane.ctx.settings.defaultSyncDepth, lane.ctx.now());
  return (
    repo.backfillCursor !== null &&
    !!repo.nodeId &&
    !lane.alone.has(repo.id) &&
    !isBackfillCovered(repo.backfilledSince, cutoff)
  );
}

/**
 * One query for the next pages of two windows, each after its own cursor and sized to what is
 * left of it, each stored as its backfill's page. A window GitHub did not answer for, or both when
 * the query failed, pages alone from then on (a query of its own, whose size a timeout halves).
 */
async function fetchNextPages(lane: Lane, [a, b]: [Repository, Repository]): Promise<void> {
  const { ctx } = lane;
  const now = ctx.now();
  const sizeOf = async (repo: Repository) => Math.min(repo.pageSize, await windowPageSize(ctx, repo));
  const [aFirst, bFirst] = [await sizeOf(a), await sizeOf(b)];
  let answer;
  try {
    ctx.client.assertBudget(ctx.reservePercent);
    answer = await ctx.client.graphqlPartial("repositories-next-pages", {
      a: a.nodeId!,
      aFirst,
      aAfter: a.backfillCursor!,
      b: b.nodeId!,
      bFirst,
      bAfter: b.backfillCursor!,
    });
  } catch (error) {
    if (error instanceof RateLimitedError) throw error;
    ctx.log.warn({ err: error, repoIds: [a.id, b.id] }, "next pages query failed; repositories page alone");
    lane.alone.add(a.id).add(b.id);
    return;
  }
  const failed = failedFields(answer.errors);
  for (const [alias, repo] of [["a", a] as const, ["b", b] as const]) {
    const node = answer.data[alias];
    if (!failed || failed.has(alias) || !node || !("pullRequests" in node)) {
      lane.alone.add(repo.id);
      continue;
    }
    // A page cut to the window says nothing of the size GitHub answers in time: the size stays.
    const page = pageOf(node.pullRequests, repo.pageSize);
    await storeOrSkip(lane, repo, () => storeBackfillPage(ctx, repo, page, now));
  }
}

/**
 * The next page of a window, sized to what is left of it: the pull requests stored so far, over
 * the time back to the oldest of them, are the window's pace; the rest of the window at that pace,
 * with PACE_MARGIN_SDS for chance, and the one older pull request that shows the window is in. A
 * window's first page (it pages alone) takes its count.
 */
async function windowPageSize(ctx: SyncContext, repo: Repository): Promise<number> {
  const now = ctx.now();
  if (repo.backfillCursor === null) return (await readCounts(ctx)).get(repo.id)?.size ?? MAX_PAGE_SIZE;
  const cutoff = backfillCutoff(repo, ctx.settings.defaultSyncDepth, now);
  const windowStart = firstWindowStart(repo, cutoff, now, ctx.firstWindowDays ?? FIRST_WINDOW_DAYS);
  const stored = await storedPullRequestSpan(ctx.database.db, repo.id);
  if (!windowStart || !stored.oldest || stored.count === 0) return MAX_PAGE_SIZE;
  const perMs = stored.count / Math.max(1, now.getTime() - stored.oldest.getTime());
  const left = Math.max(0, perMs * (stored.oldest.getTime() - windowStart.getTime()));
  return Math.min(MAX_PAGE_SIZE, Math.ceil(left + PACE_MARGIN_SDS * Math.sqrt(left)) + 1);
}

/** Runs a repository's page; any failure but a rate limit leaves the repository to its own job. */
async function storeOrSkip<T>(lane: Lane, repo: Repository, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RateLimitedError) throw error;
    lane.skipped.add(repo.id);
    lane.ctx.log.warn(
      { err: error, repoId: repo.id },
      "first window page failed; left to the repository's job",
    );
    return undefined;
  }
}
