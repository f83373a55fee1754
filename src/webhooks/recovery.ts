import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import { withTransaction, type Database, type Db } from "../db/client.js";
import { readAppState, writeAppState } from "../db/queries/app-state.js";
import {
  claimFailedDeliveries,
  findStoredDeliveryIds,
  requeueDelivery,
} from "../db/queries/webhook-deliveries.js";
import {
  claimRedelivery,
  recordRedeliveryOutcome,
  releaseRedelivery,
} from "../db/queries/webhook-redeliveries.js";
import { describeError, NotFoundError, RateLimitedError } from "../errors.js";
import type { GitHubAppClient, GitHubAppClientFactory, HookDelivery } from "../github/app-client.js";
import { enqueue } from "../queue/boss.js";
import { catalog } from "../queue/catalog.js";

/**
 * Never lose an event. GitHub does not retry a delivery that failed, so every few minutes (one run
 * across all replicas, src/queue/schedule.ts):
 *
 *   1. deliveries stored here whose processing exhausted its retries get another round, spaced out;
 *   2. deliveries GitHub could not hand over (we were down, or answered 5xx) are asked for again:
 *      GUIDs with no successful attempt and no row here, each asked for once.
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
      await enqueue(deps.boss, "processWebhook", { deliveryId: delivery.id }, { tx: db, startAfter });
    }
    if (failed.length > 0) deps.log.info({ deliveries: failed.length }, "failed deliveries queued again");
    return failed.length;
  });
}

// ---- 2. Asking GitHub to redeliver -------------------------------------------------------------

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
 * attempt down to `examinedThroughId`; one that stops early (request budget, page budget) keeps
 * its `cursor` and the newest id it started from, and the next run continues it.
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
  requested: number;
  /** True when the scan reached the attempts examined before (or the end of GitHub's list). */
  finished: boolean;
}

const isSuccess = (delivery: HookDelivery) => delivery.statusCode >= 200 && delivery.statusCode < 300;

/**
 * Finds the GUIDs GitHub failed to deliver (no 2xx attempt seen, no row stored here) and asks
 * GitHub to redeliver each once, at most `maxRequests` per run. Each GUID is claimed in
 * webhook_redeliveries before GitHub is asked, under its primary key, so no replica, crash or
 * later run ever asks twice. The bookmark is saved after every page.
 */
export async function redeliverMissedDeliveries(
  deps: {
    database: Database;
    app: GitHubAppClientFactory;
    log: Logger;
    now: () => Date;
    /** A stopping process ends the run early; the bookmark says where the next one goes on. */
    stopping?: AbortSignal | undefined;
  },
  maxRequests: number,
): Promise<RedeliveryResult> {
  const db = deps.database.db;
  const client = await deps.app(deps.log);
  const oldest = deps.now().getTime() - GITHUB_KEEPS_DELIVERIES_MS;
  const scan: RedeliveryScan = (await readAppState<RedeliveryScan>(db, REDELIVERY_STATE_KEY)) ?? {
    cursor: null,
    scanTopId: null,
    examinedThroughId: 0,
  };
  // GUIDs seen with a 2xx attempt in this run: newer attempts come first, so a later success of
  // a GUID is known before its older failures are met.
  const succeeded = new Set<string>();
  const result: RedeliveryResult = { pages: 0, requested: 0, finished: false };

  while (result.pages < MAX_PAGES_PER_RUN) {
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
    for (const delivery of missed.values()) {
      if (stored.has(delivery.guid)) continue;
      if (result.requested >= maxRequests || deps.stopping?.aborted) {
        // Out of budget (or stopping) inside this page: the next run reads it again, skipping the
        // GUIDs already claimed.
        await writeAppState(db, REDELIVERY_STATE_KEY, scan);
        deps.log.info({ ...result, cursor: scan.cursor }, "redelivery budget spent; scan continues next run");
        return result;
      }
      try {
        if (await requestRedelivery(db, client, deps.log, delivery)) result.requested += 1;
      } catch (error) {
        // A rate limit: keep the bookmark (this page is read again) and wait for the reset.
        await writeAppState(db, REDELIVERY_STATE_KEY, scan);
        throw error;
      }
    }
    const reachedEnd = fresh.length < page.deliveries.length || !page.nextCursor;
    if (reachedEnd) {
      result.finished = true;
      const advanced = scan.scanTopId > scan.examinedThroughId;
      await writeAppState(db, REDELIVERY_STATE_KEY, {
        cursor: null,
        scanTopId: null,
        scanTopAt: null,
        examinedThroughId: advanced ? scan.scanTopId : scan.examinedThroughId,
        examinedThroughAt: advanced ? (scan.scanTopAt ?? null) : (scan.examinedThroughAt ?? null),
      } satisfies RedeliveryScan);
      break;
    }
    scan.cursor = page.nextCursor;
    await writeAppState(db, REDELIVERY_STATE_KEY, scan);
    if (deps.stopping?.aborted) break;
  }
  if (result.requested > 0 || !result.finished) deps.log.info(result, "webhook redelivery scan");
  return result;
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
 * Claims the GUID, then asks GitHub once. True when GitHub accepted; a refusal is recorded as the
 * claim's outcome and never asked again. A rate limit gives the claim back (GitHub did not act)
 * and is rethrown.
 */
async function requestRedelivery(
  db: Db,
  client: GitHubAppClient,
  log: Logger,
  delivery: HookDelivery,
): Promise<boolean> {
  const claim = { guid: delivery.guid, hookDeliveryId: delivery.id, event: delivery.event };
  if (!(await claimRedelivery(db, claim))) return false;
  try {
    await client.redeliver(delivery.id);
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
  log.info(
    { deliveryId: delivery.guid, event: delivery.event, statusCode: delivery.statusCode },
    "webhook redelivery requested",
  );
  return true;
}
