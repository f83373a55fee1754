import { gzipSync } from "node:zlib";
import { and, eq, getTableColumns, gt, inArray, isNotNull, lt, ne, or, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { anyOf } from "./any-of.js";
import { webhookDeliveries, type DeliveryStatus, type WebhookDelivery } from "../schema/index.js";

export interface NewRawDelivery {
  id: string;
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
  status: DeliveryStatus;
  /** Why a delivery was refused (ignored with a reason), if it was. */
  lastError?: string | null;
  /** The payload as JSON text, as received (cleaned): stored as it is or gzipped (`storable`). */
  payloadJson: string;
  /** `payloadJson` as UTF-8, if at hand: gzip takes it without encoding the text again (3–5 µs). */
  payloadBytes?: Buffer;
  /** The part of the payload the handlers read (see PayloadCheck), for a delivery to process. */
  handledJson: string | null;
}

/**
 * How this database stores a payload: `text`, in `payload_text`, compressed by Postgres with lz4;
 * or `gzip`, in `payload_gzip`, gzipped by the app, where `payload_text` has no lz4 (the server
 * is built without it: migration 0020 then leaves it pglz, 3× gzip's CPU in all).
 */
export type PayloadFormat = "text" | "gzip";

export async function payloadFormat(db: Db): Promise<PayloadFormat> {
  // Column compression (and attcompression) is Postgres 14+: an older server stays on gzip.
  const [server] = await db.execute<{ version: number }>(
    sql`select current_setting('server_version_num')::int as version`,
  );
  if (Number(server?.version) < 140000) return "gzip";
  const [row] = await db.execute<{ lz4: boolean }>(sql`
    select attcompression = 'l' as lz4 from pg_attribute
    where attrelid = 'webhook_deliveries'::regclass and attname = 'payload_text'`);
  return row?.lz4 ? "text" : "gzip";
}

/** A delivery as `insertDeliveries` writes it: its payload in one of two columns (`storable`). */
export type StorableRawDelivery = Omit<NewRawDelivery, "payloadJson" | "payloadBytes"> &
  ({ payloadText: string; payloadGzip?: never } | { payloadGzip: Buffer; payloadText?: never });

/**
 * The delivery with its payload as `format` stores it: the text itself, or gzipped at level 1 (a
 * 23 KB pull_request payload in about 45 µs, to 2.6 KB; level 6: twice the time, 2.2 KB). Done as
 * a delivery arrives, not while its batch's transaction is open: a batch of 64 would hold the
 * transaction and the event loop for 3 ms more.
 */
export function storable(
  { payloadJson, payloadBytes, ...delivery }: NewRawDelivery,
  format: PayloadFormat,
): StorableRawDelivery {
  return format === "text"
    ? { ...delivery, payloadText: payloadJson }
    : { ...delivery, payloadGzip: gzipSync(payloadBytes ?? payloadJson, { level: 1 }) };
}

/**
 * Stores several deliveries in one statement; returns the GUIDs that were new (the others were
 * already recorded: GitHub redelivered them). Each payload is a parameter of its own. (As one json
 * parameter holding every row, which json_to_recordset took apart, the statement cost Postgres
 * twice the CPU time: 1.18 against 0.56 ms a delivery, bench/intake-cost.ts.)
 */
export async function insertDeliveries(db: Db, deliveries: StorableRawDelivery[]): Promise<Set<string>> {
  if (deliveries.length === 0) return new Set();
  const rows = deliveries.map(
    (d) => sql`(${d.id}, ${d.event}, ${d.action}, ${d.installationId}, ${d.repositoryId}, ${d.status},
      ${d.lastError ?? null}, ${d.payloadText ?? null}, ${d.payloadGzip ?? null}, ${d.handledJson}::json)`,
  );
  const stored = await db.execute<{ id: string }>(sql`insert into ${webhookDeliveries}
      (id, event, action, installation_id, repository_id, status, last_error, payload_text, payload_gzip,
       handled_payload)
    values ${sql.join(rows, sql`, `)}
    on conflict (id) do nothing
    returning id`);
  return new Set([...stored].map((row) => row.id));
}

/**
 * A stored delivery as the webhook worker reads it: `payload` is the part the handlers read, or
 * the whole payload for a delivery stored before that part was (during a rolling upgrade), or null
 * once retention dropped it.
 */
export type DeliveryToProcess = Omit<
  WebhookDelivery,
  "payload" | "payloadGzip" | "payloadText" | "handledPayload"
> & {
  payload: unknown;
};

const {
  payload: _payload,
  payloadGzip: _payloadGzip,
  payloadText: _payloadText,
  handledPayload: _handled,
  ...rowColumns
} = getTableColumns(webhookDeliveries);

/**
 * The stored deliveries among these GUIDs, by GUID, for processing. The whole payload (23 KB of a
 * pull_request delivery) is read only where its handled part is missing: reading it back was 14%
 * of the database time per delivery, and parsing it a share of the worker's.
 */
export async function findDeliveries(db: Db, ids: string[]): Promise<Map<string, DeliveryToProcess>> {
  if (ids.length === 0) return new Map();
  const { payload, handledPayload } = webhookDeliveries;
  const rows = await db
    .select({ ...rowColumns, payload: sql`coalesce(${handledPayload}, ${payload})`.mapWith(payload) })
    .from(webhookDeliveries)
    .where(anyOf(webhookDeliveries.id, ids));
  return new Map(rows.map((row) => [row.id, row]));
}

export interface DeliveryOutcome {
  id: string;
  status: DeliveryStatus;
  error?: string | null;
}

/**
 * Records one processing attempt of each of these deliveries, in one statement whatever their
 * outcomes. Only a final outcome (processed, ignored) is a moment of processing: the clock at the
 * end of the batch's work, not the start of its transaction. A retry still waiting has none.
 */
export async function recordDeliveryOutcomes(db: Db, outcomes: DeliveryOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const values = JSON.stringify(
    outcomes.map(({ id, status, error }) => ({ id, status, error: error ?? null })),
  );
  await db.execute(sql`
    update ${webhookDeliveries} d set
      status = v.status,
      last_error = v.error,
      attempts = d.attempts + 1,
      processed_at = case when v.status in ('processed', 'ignored') then clock_timestamp() end
    from jsonb_to_recordset(${values}::jsonb) as v(id text, status text, error text)
    where d.id = v.id`);
}

/** Which of these GUIDs are stored here (received and committed, whatever became of them). */
export async function findStoredDeliveryIds(db: Db, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(inArray(webhookDeliveries.id, ids));
  return new Set(rows.map((row) => row.id));
}

/**
 * Failed deliveries (their processing job exhausted its retries) with fewer than `maxAttempts`
 * attempts, oldest first, locked so that two replicas never requeue the same one. Only recent
 * ones: the scan stays on the received_at index.
 */
export async function claimFailedDeliveries(
  db: Db,
  options: { maxAttempts: number; limit: number; since: Date },
): Promise<{ id: string; attempts: number; installationId: number | null }[]> {
  return db
    .select({
      id: webhookDeliveries.id,
      attempts: webhookDeliveries.attempts,
      installationId: webhookDeliveries.installationId,
    })
    .from(webhookDeliveries)
    .where(
      and(
        gt(webhookDeliveries.receivedAt, options.since),
        eq(webhookDeliveries.status, "failed"),
        lt(webhookDeliveries.attempts, options.maxAttempts),
      ),
    )
    .orderBy(webhookDeliveries.receivedAt)
    .limit(options.limit)
    .for("update", { skipLocked: true });
}

/**
 * Deliveries still queued, received between `since` and `before`, that no waiting or running
 * process-webhook job names: their job is gone. A replica of a version before jobs named several
 * deliveries (during a rolling upgrade) cannot read such a job, and fails it; nothing else would
 * queue those deliveries again. Locked as claimFailedDeliveries is.
 */
export async function claimStrandedDeliveries(
  db: Db,
  options: { before: Date; since: Date; limit: number },
): Promise<{ id: string; installationId: number | null }[]> {
  const rows = await db.execute<{ id: string; installation_id: string | number | null }>(sql`
    with live as (
      select jsonb_array_elements_text(
               case when j.data ? 'deliveryIds' then j.data -> 'deliveryIds'
                    else jsonb_build_array(j.data ->> 'deliveryId') end) as id
      from pgboss.job j
      where j.name = 'process-webhook' and j.state <= 'active'
    )
    select d.id, d.installation_id from ${webhookDeliveries} d
    where d.status = 'queued'
      and d.received_at > ${options.since.toISOString()}::timestamptz
      and d.received_at < ${options.before.toISOString()}::timestamptz
      and not exists (select 1 from live where live.id = d.id)
    order by d.received_at
    limit ${options.limit}
    for update of d skip locked`);
  return [...rows].map((row) => ({
    id: row.id,
    installationId: row.installation_id === null ? null : Number(row.installation_id),
  }));
}

/**
 * Retention: drops the payloads of deliveries received before `cutoff`, at most `limit` rows per
 * statement, keeping the row itself (GUID, event, outcome). A delivery still queued keeps its
 * payload whatever its age. Returns how many were purged.
 */
export async function purgeDeliveryPayloads(db: Db, cutoff: Date, limit: number): Promise<number> {
  const batch = db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        lt(webhookDeliveries.receivedAt, cutoff),
        or(
          isNotNull(webhookDeliveries.payloadText),
          isNotNull(webhookDeliveries.payloadGzip),
          isNotNull(webhookDeliveries.payload),
        ),
        ne(webhookDeliveries.status, "queued"),
      ),
    )
    .limit(limit);
  const rows = await db
    .update(webhookDeliveries)
    .set({ payload: null, payloadGzip: null, payloadText: null, handledPayload: null })
    .where(inArray(webhookDeliveries.id, batch))
    .returning({ id: webhookDeliveries.id });
  return rows.length;
}

/** Back to `queued` for another round, keeping its attempts and last error. */
export async function requeueDelivery(db: Db, id: string): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({ status: "queued", processedAt: null })
    .where(eq(webhookDeliveries.id, id));
}
