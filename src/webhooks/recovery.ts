import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import { withTransaction, type Database, type Db } from "../db/client.js";
import { readAppState, writeAppState } from "../db/queries/app-state.js";
import {
  claimFailedDeliveries,
  claimStrandedDeliveries,
  findStoredDeliveryIds,
  requeueDelivery,
} from "../db/queries/webhook-deliveries.js";
import { requestDeltaSync } from "../db/queries/repositories.js";
import {
  claimMissedDeliveries,
  countPendingRedeliveries,
  recordRedeliveryOutcome,
  releaseRedelivery,
  takeOldestPendingRedelivery,
  type MissedDelivery,
} from "../db/queries/webhook-redeliveries.js";
import { describeError, NotFoundError, RateLimitedError } from "../errors.js";
import type { GitHubAppClient, GitHubAppClientFactory, HookDelivery } from "../github/app-client.js";
import { enqueue } from "../queue/boss.js";
import { catalog, processingJob } from "../queue/catalog.js";

/**
 * Never lose an event. GitHub does not retry a delivery that failed, so every few minutes and at
 * start (one run across all replicas, src/queue/schedule.ts):
 *
 *   1. deliveries stored here whose processing exhausted its retries get another round, spaced out;
 *   2. deliveries GitHub could not hand over (we were down, or answered 5xx), GUIDs with no
 *      successful attempt and no row here, are repaired by what is cheapest: a pull request or
 *      review event by a delta sync of its repository, anything else by asking GitHub to deliver
 *      it again, oldest first, each GUID once.
 */

// ---- 1. Retrying from our own table ------------------------------------------------------------

/** Attempts of one round: the process-webhook job's first try and its retries. */
const ATTEMPTS_PER_ROUND = (catalog.processWebhook.options.retryLimit ?? 0) + 1;
/** The round of intake and three more from the table; what still fails after that is a real fault. */
const MAX_ROUNDS = 4;
/** The first extra round waits this long, each next one twice as long. */
const FIRST_ROUND_DELAY_MS = 10 * 60_000;
const MAX_ROUND_DELAY_MS = 6 * 3_600_000;
/** Failed deliveries older than this are left as they are (and past the payload retention soon). */
const RETRY_WINDOW_MS = 7 * 86_400_000;

/** When the next round of a delivery with `attempts` failed attempts may start, from `now`. */
export function nextRoundDelayMs(attempts: number): number {
  const rounds = Math.max(1, Math.ceil(attempts / ATTEMPTS_PER_ROUND));
  return Math.min(MAX_ROUND_DELAY_MS, FIRST_ROUND_DELAY_MS * 2 ** (rounds - 1));
}

/**
 * Queues another round for deliveries whose processing failed, at most `limit` per run, each after
 * a delay that doubles with the rounds it already had. A delivery that failed MAX_ROUNDS rounds
 * stays `failed`: a real fault, for a person to look at.
 */
export async function retryFailedDeliveries(
  deps: { database: Database; boss: PgBoss; log: Logger; now: () => Date },
  limit: number,
): Promise<number> {
  const now = deps.now();
  return withTransaction(deps.database, async (db) => {
    const failed = await claimFailedDeliveries(db, {
      maxAttempts: ATTEMPTS_PER_ROUND * MAX_ROUNDS,
      limit,
      since: new Date(now.getTime() - RETRY_WINDOW_MS),
    });
    for (const delivery of failed) {
      const startAfter = new Date(now.getTime() + nextRoundDelayMs(delivery.attempts));
      // Queued again, keeping its attempts and last error: the job marks it processed or failed.
      await requeueDelivery(db, delivery.id);
      const job = processingJob([delivery.id], delivery.installationId);
      await enqueue(deps.boss, "processWebhook", job, { tx: db, startAfter });
    }
    if (failed.length > 0) deps.log.info({ deliveries: failed.length }, "failed deliveries queued again");
    return failed.length;
  });
}

/**
 * A queued delivery whose job is gone is queued again once it has waited this long: longer than any
 * backlog takes to reach it, so a delivery whose job is merely slow is left alone.
 */
const STRANDED_AFTER_MS = 30 * 60_000;

/**
 * Queues a job again for deliveries left queued without one, at most `limit` per run: a replica of
 * an earlier version failed their job during a rolling upgrade (it reads jobs of one delivery only),
 * or the job was lost. The new job is one a delivery, as a retried round's is.
 */
export async function requeueStrandedDeliveries(
  deps: { database: Database; boss: PgBoss; log: Logger; now: () => Date },
  limit: number,
): Promise<number> {
  const now = deps.now().getTime();
  return withTransaction(deps.database, async (db) => {
    const stranded = await claimStrandedDeliveries(db, {
      before: new Date(now - STRANDED_AFTER_MS),
      since: new Date(now - RETRY_WINDOW_MS),
      limit,
    });
    for (const { id, installationId } of stranded) {
      await enqueue(deps.boss, "processWebhook", processingJob([id], installationId), { tx: db });
    }
    if (stranded.length > 0)
      deps.log.warn({ deliveries: stranded.length }, "queued deliveries without a job queued again");
    return stranded.length;
  });
}

// ---- 2. Deliveries GitHub failed to hand over ---------------------------------------------------

/**
 * Events a delta sync of their repository repairs: it stores each pull request, its reviews and
 * commits as GitHub has them now, one query for a repository with nothing else new, and the same
 * watermark. Cheaper and sooner than a redelivery, which GitHub serves about one a second.
 * Everything else (installation, installation_repositories, repository, organization,
 * membership...) says what no sync reads back, and is redelivered.
 */
const REPAIRED_BY_DELTA_SYNC = new Set(["pull_request", "pull_request_review"]);

/** app_state key of the scan's bookmark. */
export const REDELIVERY_STATE_KEY = "webhook-redelivery-scan";
/** GitHub keeps deliveries for three days; older ones cannot be redelivered. */
const GITHUB_KEEPS_DELIVERIES_MS = 3 * 86_400_000;
/** Pages (of 100 attempts) read per run, so one run stays a few seconds and a few API calls. */
const MAX_PAGES_PER_RUN = 20;
/**
 * A new scan reads this far back past where the last one finished: an attempt listed a little
 * after a scan passed its place in the list (one still in flight then) is not skipped. Claimed and
 * stored GUIDs make reading twice free of consequence.
 */
const OVERLAP_MS = 5 * 60_000;

/**
 * Where the scan of GitHub's delivery list (newest first) stands. A scan runs from the newest
 * attempt down to `examinedThroughId`; one that stops early (page budget, a stopping process)
 * keeps its `cursor` and the newest id it started from, and the next run continues it.
 */
export interface RedeliveryScan {
  /** Cursor of the page to read next; null: from the newest. */
  cursor: string | null;
  /** Newest attempt id of the scan in progress; null when none is in progress. */
  scanTopId: number | null;
  /** Every attempt with an id up to this one was examined by an earlier, finished scan. */
  examinedThroughId: number;
  /** When that attempt was delivered (ISO); the overlap is counted back from it. */
  examinedThroughAt?: string | null;
  /** The newest attempt's delivery time in the scan in progress (ISO). */
  scanTopAt?: string | null;
}

export interface RedeliveryResult {
  pages: number;
  /** GUIDs found missed in this run (no 2xx attempt, no row here, not claimed before). */
  missed: number;
  /** Of those, pull request and review events left to a delta sync of their repository. */
  repairedBySync: number;
  /** Redeliveries GitHub was asked for in this run. */
  requested: number;
  /** Redeliveries still waiting: beyond this run's budget, or until the scan is finished. */
  pending: number;
  /** True when the scan reached the attempts examined before (or the end of GitHub's list). */
  finished: boolean;
}

export interface RecoveryDeps {
  database: Database;
  boss: PgBoss;
  app: GitHubAppClientFactory;
  log: Logger;
  now: () => Date;
  /** A stopping process ends the run early; the bookmark says where the next one goes on. */
  stopping?: AbortSignal | undefined;
}

const isSuccess = (delivery: HookDelivery) => delivery.statusCode >= 200 && delivery.statusCode < 300;

/**
 * Repairs what GitHub failed to deliver, in two steps:
 *
 *   1. GitHub's list of delivery attempts is read, newest first, down to where the last finished
 *      scan stopped (at most MAX_PAGES_PER_RUN pages a run). Each missed GUID is claimed in
 *      webhook_redeliveries, once whatever the replicas: a pull request event as repaired by sync,
 *      with its repository marked for a delta sync; anything else as pending. The installations
 *      that missed deliveries get their cheap syncs queued (see queueRepairs).
 *   2. Once the scan is finished, the pending GUIDs are redelivered oldest first, at most
 *      `maxRequests` a run.
 *
 * A run that leaves work (a scan not finished, redeliveries pending) says so; the job queues the
 * next run at once instead of waiting for the schedule.
 */
export async function redeliverMissedDeliveries(
  deps: RecoveryDeps,
  maxRequests: number,
): Promise<RedeliveryResult> {
  const client = await deps.app(deps.log);
  const scan = await scanDeliveryList(deps, client);
  const requested = scan.finished ? await redeliverPending(deps, client, maxRequests) : 0;
  const result = { ...scan, requested, pending: await countPendingRedeliveries(deps.database.db) };
  if (result.missed > 0 || result.requested > 0 || result.pending > 0 || !result.finished) {
    deps.log.info(result, "webhook redelivery scan");
  }
  return result;
}

/** Step 1: reads GitHub's list of attempts, claims each missed GUID and queues its repair. */
async function scanDeliveryList(
  deps: RecoveryDeps,
  client: GitHubAppClient,
): Promise<Pick<RedeliveryResult, "pages" | "missed" | "repairedBySync" | "finished">> {
  const db = deps.database.db;
  const oldest = deps.now().getTime() - GITHUB_KEEPS_DELIVERIES_MS;
  const scan: RedeliveryScan = (await readAppState<RedeliveryScan>(db, REDELIVERY_STATE_KEY)) ?? {
    cursor: null,
    scanTopId: null,
    examinedThroughId: 0,
  };
  // GUIDs seen with a 2xx attempt in this run: newer attempts come first, so a later success of
  // a GUID is known before its older failures are met.
  const succeeded = new Set<string>();
  const result = { pages: 0, missed: 0, repairedBySync: 0, finished: false };

  while (result.pages < MAX_PAGES_PER_RUN && !deps.stopping?.aborted) {
    const page = await listOrSkip(client, scan.cursor, deps.log);
    if (!page) return { ...result, finished: true };
    result.pages += 1;
    if (scan.scanTopId === null) {
      scan.scanTopId = page.deliveries[0]?.id ?? scan.examinedThroughId;
      scan.scanTopAt = page.deliveries[0]?.deliveredAt.toISOString() ?? scan.examinedThroughAt ?? null;
    }
    const overlapFrom = scan.examinedThroughAt ? Date.parse(scan.examinedThroughAt) - OVERLAP_MS : 0;
    const fresh = page.deliveries.filter(
      (delivery) =>
        (delivery.id > scan.examinedThroughId || delivery.deliveredAt.getTime() >= overlapFrom) &&
        delivery.deliveredAt.getTime() >= oldest,
    );
    for (const delivery of page.deliveries) if (isSuccess(delivery)) succeeded.add(delivery.guid);
    const missed = new Map<string, HookDelivery>();
    for (const delivery of fresh) {
      if (!isSuccess(delivery) && !succeeded.has(delivery.guid) && !missed.has(delivery.guid)) {
        missed.set(delivery.guid, delivery);
      }
    }
    const stored = await findStoredDeliveryIds(db, [...missed.keys()]);
    const unstored = [...missed.values()].filter((delivery) => !stored.has(delivery.guid));
    const reachedEnd = fresh.length < page.deliveries.length || !page.nextCursor;
    const next: RedeliveryScan = reachedEnd ? finishedScan(scan) : { ...scan, cursor: page.nextCursor };
    // The claims, their repairs and the bookmark commit together: a crash repeats the page.
    const claimed = await withTransaction(deps.database, async (tx) => {
      const won = await claimAndRepair(deps.boss, tx, unstored);
      await writeAppState(tx, REDELIVERY_STATE_KEY, next);
      return won;
    });
    result.missed += claimed.length;
    result.repairedBySync += claimed.filter((d) => d.outcome === "repaired_by_sync").length;
    Object.assign(scan, next);
    if (reachedEnd) return { ...result, finished: true };
  }
  return result;
}

/** The bookmark once a scan reached the attempts examined before: the next one stops at its top. */
function finishedScan(scan: RedeliveryScan): RedeliveryScan {
  const advanced = scan.scanTopId !== null && scan.scanTopId > scan.examinedThroughId;
  return {
    cursor: null,
    scanTopId: null,
    scanTopAt: null,
    examinedThroughId: advanced ? scan.scanTopId! : scan.examinedThroughId,
    examinedThroughAt: advanced ? (scan.scanTopAt ?? null) : (scan.examinedThroughAt ?? null),
  };
}

/** A missed delivery, with the repository a delta sync would repair it through. */
type ClassifiedDelivery = MissedDelivery & { repositoryId: number | null };

function classify(delivery: HookDelivery): ClassifiedDelivery {
  const bySync =
    REPAIRED_BY_DELTA_SYNC.has(delivery.event) &&
    delivery.installationId !== null &&
    delivery.repositoryId !== null;
  return {
    guid: delivery.guid,
    hookDeliveryId: delivery.id,
    event: delivery.event,
    deliveredAt: delivery.deliveredAt,
    installationId: delivery.installationId,
    repositoryId: delivery.repositoryId,
    outcome: bySync ? "repaired_by_sync" : "pending",
  };
}

/** Claims the missed deliveries no other scan claimed, and queues their repairs; returns those. */
async function claimAndRepair(boss: PgBoss, db: Db, missed: HookDelivery[]): Promise<ClassifiedDelivery[]> {
  const classified = missed.map(classify);
  const won = await claimMissedDeliveries(
    db,
    classified.map(({ repositoryId: _repositoryId, ...claim }) => claim),
  );
  const claimed = classified.filter((delivery) => won.has(delivery.guid));
  await queueRepairs(boss, db, claimed);
  return claimed;
}

/**
 * What syncs repair of an outage, for each installation that missed deliveries: the pull requests
 * of the repositories whose events were lost (a delta sync of those, marked so that a delta sync
 * already queued takes them too), the repository list and the members (a few calls each; they
 * repair added, removed and renamed repositories and members sooner than their redeliveries). And
 * the App's installations, in case one missed is new. Each queue keeps one waiting job per key,
 * so pages of one outage queue each once.
 */
async function queueRepairs(boss: PgBoss, db: Db, claimed: ClassifiedDelivery[]): Promise<void> {
  if (claimed.length === 0) return;
  const byInstallation = new Map<number, Set<number>>();
  for (const delivery of claimed) {
    if (delivery.installationId === null) continue;
    const repoIds = byInstallation.get(delivery.installationId) ?? new Set<number>();
    if (delivery.outcome === "repaired_by_sync") repoIds.add(delivery.repositoryId!);
    byInstallation.set(delivery.installationId, repoIds);
  }
  for (const [installationId, repoIds] of byInstallation) {
    const marked = await requestDeltaSync(db, installationId, [...repoIds]);
    if (marked.length > 0) await enqueue(boss, "deltaSync", { installationId, repoIds: marked }, { tx: db });
    await enqueue(boss, "syncRepositories", { installationId }, { tx: db });
    await enqueue(boss, "membersSync", { installationId }, { tx: db });
  }
  await enqueue(boss, "reconcileInstallations", {}, { tx: db });
}

/** Step 2: asks GitHub for the pending redeliveries, oldest first, at most `maxRequests`. */
async function redeliverPending(
  deps: RecoveryDeps,
  client: GitHubAppClient,
  maxRequests: number,
): Promise<number> {
  let asked = 0;
  let requested = 0;
  while (asked < maxRequests && !deps.stopping?.aborted) {
    const next = await takeOldestPendingRedelivery(deps.database.db);
    if (!next) break;
    asked += 1;
    if (await requestRedelivery(deps.database.db, client, deps.log, next)) requested += 1;
  }
  return requested;
}

/**
 * A GitHub Enterprise Server older than the deliveries API answers 404: nothing to scan there,
 * and no reason for the job to fail every few minutes.
 */
async function listOrSkip(client: GitHubAppClient, cursor: string | null, log: Logger) {
  try {
    return await client.listHookDeliveries(cursor);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    log.warn("github has no webhook deliveries api here; redelivery scan skipped");
    return undefined;
  }
}

/**
 * Asks GitHub once for a GUID this caller took. True when GitHub accepted; a refusal is recorded
 * as the claim's outcome and never asked again. A rate limit gives the claim back (GitHub did not
 * act) and is rethrown: the job waits for the reset.
 */
async function requestRedelivery(
  db: Db,
  client: GitHubAppClient,
  log: Logger,
  delivery: { guid: string; hookDeliveryId: number; event: string | null },
): Promise<boolean> {
  try {
    await client.redeliver(delivery.hookDeliveryId);
  } catch (error) {
    if (error instanceof RateLimitedError) {
      await releaseRedelivery(db, delivery.guid);
      throw error;
    }
    await recordRedeliveryOutcome(db, delivery.guid, `failed: ${describeError(error)}`);
    log.warn({ deliveryId: delivery.guid, err: error }, "webhook redelivery refused");
    return false;
  }
  await recordRedeliveryOutcome(db, delivery.guid, "requested");
  log.info({ deliveryId: delivery.guid, event: delivery.event }, "webhook redelivery requested");
  return true;
}
