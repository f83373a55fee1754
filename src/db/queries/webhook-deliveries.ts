import { and, eq, gt, inArray, isNotNull, lt, ne, sql } from "drizzle-orm";
import type { Db } from "../client.js";
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
  /** The payload as JSON text, stored as it is (no second serialisation of a large object). */
  payloadJson: string;
}

/**
 * Stores several deliveries in one statement; returns the GUIDs that were new (the others were
 * already recorded: GitHub redelivered them).
 */
export async function insertDeliveries(db: Db, deliveries: NewRawDelivery[]): Promise<Set<string>> {
  if (deliveries.length === 0) return new Set();
  const rows = await db
    .insert(webhookDeliveries)
    .values(
      deliveries.map(({ payloadJson, ...delivery }) => ({
        ...delivery,
        payload: sql`${payloadJson}::jsonb`,
      })),
    )
    .onConflictDoNothing({ target: webhookDeliveries.id })
    .returning({ id: webhookDeliveries.id });
  return new Set(rows.map((row) => row.id));
}

/** The stored deliveries among these GUIDs, by GUID. */
export async function findDeliveries(db: Db, ids: string[]): Promise<Map<string, WebhookDelivery>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.id, ids));
  return new Map(rows.map((row) => [row.id, row]));
}

/** Records one processing attempt of each of these deliveries, all with the same final outcome. */
export async function markDeliveriesProcessed(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(webhookDeliveries)
    .set({
      status: "processed",
      lastError: null,
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      processedAt: sql`now()`,
    })
    .where(inArray(webhookDeliveries.id, ids));
}

export async function markDelivery(
  db: Db,
  id: string,
  outcome: { status: DeliveryStatus; error?: string | null },
): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({
      status: outcome.status,
      lastError: outcome.error ?? null,
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      // Only a final outcome is a moment of processing; a retry still waiting has none.
      processedAt: outcome.status === "processed" || outcome.status === "ignored" ? sql`now()` : null,
    })
    .where(eq(webhookDeliveries.id, id));
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
): Promise<{ id: string; attempts: number }[]> {
  return db
    .select({ id: webhookDeliveries.id, attempts: webhookDeliveries.attempts })
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
        isNotNull(webhookDeliveries.payload),
        ne(webhookDeliveries.status, "queued"),
      ),
    )
    .limit(limit);
  const rows = await db
    .update(webhookDeliveries)
    .set({ payload: null })
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
