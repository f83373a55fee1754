import { eq } from "drizzle-orm";
import type { Db } from "../client.js";
import { webhookRedeliveries } from "../schema/index.js";

/**
 * Claims the one redelivery request a GUID ever gets: true for exactly one caller, whatever the
 * number of replicas scanning at once. Written before GitHub is asked, so a crash between the two
 * never leads to a second request.
 */
export async function claimRedelivery(
  db: Db,
  claim: { guid: string; hookDeliveryId: number; event: string | null },
): Promise<boolean> {
  const rows = await db
    .insert(webhookRedeliveries)
    .values({ ...claim, outcome: "requesting" })
    .onConflictDoNothing({ target: webhookRedeliveries.guid })
    .returning({ guid: webhookRedeliveries.guid });
  return rows.length > 0;
}

/** "requested", or why GitHub refused. */
export async function recordRedeliveryOutcome(db: Db, guid: string, outcome: string): Promise<void> {
  await db
    .update(webhookRedeliveries)
    .set({ outcome: outcome.slice(0, 500) })
    .where(eq(webhookRedeliveries.guid, guid));
}

/** Gives a claim back when GitHub certainly did not act on it (a rate limit), so a later run asks. */
export async function releaseRedelivery(db: Db, guid: string): Promise<void> {
  await db.delete(webhookRedeliveries).where(eq(webhookRedeliveries.guid, guid));
}
