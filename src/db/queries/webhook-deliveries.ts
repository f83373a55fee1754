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

/** Returns false when the GUID was already recorded: GitHub redelivered it. */
export async function insertDelivery(db: Db, delivery: NewDelivery): Promise<boolean> {
  const rows = await db
    .insert(webhookDeliveries)
    .values(delivery)
    .onConflictDoNothing({ target: webhookDeliveries.id })
    .returning({ id: webhookDeliveries.id });
  return rows.length > 0;
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
