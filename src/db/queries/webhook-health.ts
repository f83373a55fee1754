import { sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { repositories, webhookDeliveries, type DeliveryStatus } from "../schema/index.js";

/*
 * What the webhook health page shows of an installation: its deliveries, how fast they are
 * processed, and the jobs waiting. Deliveries are read by installation and receipt time;
 * webhook_deliveries_received_idx serves the time windows, scanning every installation's rows in
 * them (an index on installation_id, received_at would serve both).
 */

/** A delivery's outcome: its status, with "ignored with a reason" told apart as a refusal. */
export type DeliveryOutcome = "processed" | "queued" | "ignored" | "refused" | "failed";

/** The outcome of a webhook_deliveries row, in SQL. */
const outcome = sql`case when status = 'ignored' and last_error is not null then 'refused' else status end`;

export interface DeliveryCount {
  event: string;
  outcome: DeliveryOutcome;
  count: number;
}

/** Deliveries received since `since`, by event and outcome. */
export async function countDeliveriesByEvent(
  db: Db,
  installationId: number,
  since: Date,
): Promise<DeliveryCount[]> {
  const rows = await db.execute<{ event: string; outcome: DeliveryOutcome; count: number }>(sql`
    select event, ${outcome} as outcome, count(*)::int as count
    from ${webhookDeliveries}
    where installation_id = ${installationId} and received_at >= ${since.toISOString()}::timestamptz
    group by 1, 2
    order by 1, 2`);
  return [...rows];
}

export interface DeliveryFailure {
  id: string;
  event: string;
  action: string | null;
  status: DeliveryStatus;
  receivedAt: Date;
  attempts: number;
  reason: string | null;
  repositoryName: string | null;
}

/** The latest failed or refused deliveries since `since`, newest first, with their reason. */
export async function listDeliveryFailures(
  db: Db,
  installationId: number,
  options: { since: Date; limit: number },
): Promise<{ rows: DeliveryFailure[]; total: number }> {
  const rows = await db.execute<{
    id: string;
    event: string;
    action: string | null;
    status: DeliveryStatus;
    received_at: Date | string;
    attempts: number;
    last_error: string | null;
    full_name: string | null;
    total: number;
  }>(sql`
    select d.id, d.event, d.action, d.status, d.received_at, d.attempts, d.last_error, r.full_name,
           count(*) over ()::int as total
    from ${webhookDeliveries} d
    left join ${repositories} r on r.id = d.repository_id and r.installation_id = d.installation_id
    where d.installation_id = ${installationId} and d.received_at >= ${options.since.toISOString()}::timestamptz
      and (d.status = 'failed' or (d.status = 'ignored' and d.last_error is not null))
    order by d.received_at desc, d.id
    limit ${options.limit}`);
  const list = [...rows];
  return {
    total: list[0]?.total ?? 0,
    rows: list.map((row) => ({
      id: row.id,
      event: row.event,
      action: row.action,
      status: row.status,
      receivedAt: new Date(row.received_at),
      attempts: row.attempts,
      reason: row.last_error,
      repositoryName: row.full_name,
    })),
  };
}

export interface LastDelivery {
  id: string;
  event: string;
  action: string | null;
  outcome: DeliveryOutcome;
  receivedAt: Date;
}

/** The installation's most recent delivery, whenever it was. */
export async function findLastDelivery(db: Db, installationId: number): Promise<LastDelivery | undefined> {
  const rows = await db.execute<{
    id: string;
    event: string;
    action: string | null;
    outcome: DeliveryOutcome;
    received_at: Date | string;
  }>(sql`
    select id, event, action, ${outcome} as outcome, received_at
    from ${webhookDeliveries}
    where installation_id = ${installationId}
    order by received_at desc, id desc
    limit 1`);
  const [row] = [...rows];
  return row
    ? {
        id: row.id,
        event: row.event,
        action: row.action,
        outcome: row.outcome,
        receivedAt: new Date(row.received_at),
      }
    : undefined;
}

export interface ProcessingLag {
  /** Deliveries processed among those received since `since`. */
  processed: number;
  p50Seconds: number | null;
  p95Seconds: number | null;
}

/**
 * Time from receipt to the end of processing, for the deliveries received since `since` that
 * were processed (or skipped by their handler): the median and the 95th percentile, interpolated.
 */
export async function measureProcessingLag(
  db: Db,
  installationId: number,
  since: Date,
): Promise<ProcessingLag> {
  const rows = await db.execute<{ processed: number; p50: number | null; p95: number | null }>(sql`
    select count(*)::int as processed,
           percentile_cont(0.5) within group (order by lag) as p50,
           percentile_cont(0.95) within group (order by lag) as p95
    from (
      select extract(epoch from processed_at - received_at)::float8 as lag
      from ${webhookDeliveries}
      where installation_id = ${installationId} and received_at >= ${since.toISOString()}::timestamptz and processed_at is not null
    ) lags`);
  const [row] = [...rows];
  return { processed: row?.processed ?? 0, p50Seconds: row?.p50 ?? null, p95Seconds: row?.p95 ?? null };
}

export interface QueueDepth {
  queue: string;
  /** Jobs of this installation: ready to run, scheduled for later (retries, pauses), running. */
  mine: { waiting: number; later: number; running: number };
  /** Every installation's jobs in the queue, and those no installation can be told for. */
  all: { waiting: number; later: number; running: number };
}

/**
 * Waiting and running pg-boss jobs of these queues, overall and for one installation. A job is
 * the installation's when its data names it (installationId: every job of a sync queue, and the
 * process-webhook jobs of the deliveries of one installation), or when it processes a delivery of
 * it (deliveryId, a process-webhook job of an earlier version). pg-boss partitions pgboss.job by
 * queue name and indexes its waiting jobs per queue (job_i11); running jobs are few.
 */
export async function countQueuedJobs(
  db: Db,
  installationId: number,
  options: { queues: string[]; now: Date },
): Promise<QueueDepth[]> {
  const now = sql`${options.now.toISOString()}::timestamptz`;
  const rows = await db.execute<{
    name: string;
    waiting: number;
    later: number;
    running: number;
    mine_waiting: number;
    mine_later: number;
    mine_running: number;
  }>(sql`
    with jobs as (
      select j.name, j.state, j.start_after,
             coalesce((j.data ->> 'installationId')::bigint, d.installation_id) = ${installationId} as mine
      from pgboss.job j
      left join ${webhookDeliveries} d on d.id = j.data ->> 'deliveryId'
      where j.name = any(${sql.param(options.queues)}::text[])
        and j.state <= 'active'
    )
    select name,
           count(*) filter (where state < 'active' and start_after <= ${now})::int as waiting,
           count(*) filter (where state < 'active' and start_after > ${now})::int as later,
           count(*) filter (where state = 'active')::int as running,
           count(*) filter (where mine and state < 'active' and start_after <= ${now})::int as mine_waiting,
           count(*) filter (where mine and state < 'active' and start_after > ${now})::int as mine_later,
           count(*) filter (where mine and state = 'active')::int as mine_running
    from jobs
    group by name`);
  const byName = new Map([...rows].map((row) => [row.name, row]));
  return options.queues.map((queue) => {
    const row = byName.get(queue);
    return {
      queue,
      mine: { waiting: row?.mine_waiting ?? 0, later: row?.mine_later ?? 0, running: row?.mine_running ?? 0 },
      all: { waiting: row?.waiting ?? 0, later: row?.later ?? 0, running: row?.running ?? 0 },
    };
  });
}
