import { and, count, eq, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { webhookRedeliveries, type RedeliveryOutcome } from "../schema/index.js";

/** A delivery GitHub recorded as failed, and what is to become of it. */
export interface MissedDelivery {
  guid: string;
  hookDeliveryId: number;
  event: string | null;
  deliveredAt: Date;
  installationId: number | null;
  outcome: Extract<RedeliveryOutcome, "pending" | "repaired_by_sync">;
}

/**
 * Claims each of these GUIDs not claimed before, with its outcome; returns the GUIDs this caller
 * claimed. One caller wins each GUID, whatever the number of replicas scanning at once.
 */
export async function claimMissedDeliveries(db: Db, missed: MissedDelivery[]): Promise<Set<string>> {
  if (missed.length === 0) return new Set();
  const rows = await db
    .insert(webhookRedeliveries)
    .values(missed)
    .onConflictDoNothing({ target: webhookRedeliveries.guid })
    .returning({ guid: webhookRedeliveries.guid });
  return new Set(rows.map((row) => row.guid));
}

/**
 * The oldest pending redelivery, moved to "requesting" for exactly one caller (written before
 * GitHub is asked, so a crash between the two never leads to a second request); undefined when
 * none is pending.
 */
export async function takeOldestPendingRedelivery(
  db: Db,
): Promise<{ guid: string; hookDeliveryId: number; event: string | null } | undefined> {
  const [row] = await db.execute<{ guid: string; hook_delivery_id: string; event: string | null }>(sql`
    update ${webhookRedeliveries} set outcome = 'requesting', requested_at = now()
    where guid = (
      select guid from ${webhookRedeliveries} where outcome = 'pending'
      order by delivered_at, hook_delivery_id limit 1 for update skip locked
    )
    returning guid, hook_delivery_id, event`);
  return row && { guid: row.guid, hookDeliveryId: Number(row.hook_delivery_id), event: row.event };
}

export async function countPendingRedeliveries(db: Db): Promise<number> {
  const [row] = await db
    .select({ value: count() })
    .from(webhookRedeliveries)
    .where(eq(webhookRedeliveries.outcome, "pending"));
  return row?.value ?? 0;
}

/** "requested", or why GitHub refused. */
export async function recordRedeliveryOutcome(
  db: Db,
  guid: string,
  outcome: RedeliveryOutcome,
): Promise<void> {
  await db
    .update(webhookRedeliveries)
    .set({ outcome: outcome.slice(0, 500) as RedeliveryOutcome })
    .where(eq(webhookRedeliveries.guid, guid));
}

/** Gives a claim back when GitHub certainly did not act on it (a rate limit), so a later run asks. */
export async function releaseRedelivery(db: Db, guid: string): Promise<void> {
  await db
    .update(webhookRedeliveries)
    .set({ outcome: "pending" })
    .where(and(eq(webhookRedeliveries.guid, guid), eq(webhookRedeliveries.outcome, "requesting")));
}
