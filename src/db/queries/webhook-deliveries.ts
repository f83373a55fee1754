import { eq, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { webhookDeliveries, type DeliveryStatus, type WebhookDelivery } from "../schema/index.js";

export interface NewDelivery {
  id: string;
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
  status: DeliveryStatus;
  /** Why a delivery was refused (ignored with a reason), if it was. */
  lastError?: string | null;
  payload: unknown;
}

export interface NewRawDelivery extends Omit<NewDelivery, "payload"> {
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

export async function findDelivery(db: Db, id: string): Promise<WebhookDelivery | undefined> {
  const [row] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  return row;
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
      processedAt: outcome.status === "failed" ? null : sql`now()`,
    })
    .where(eq(webhookDeliveries.id, id));
}
