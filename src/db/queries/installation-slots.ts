import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../client.js";
import { appState } from "../schema/index.js";

/**
 * Leases on an installation's GitHub slots, shared by every replica: one app_state row per slot
 * (`github-slot:<installation>:<n>`) naming the job attempt that holds it. A lease not renewed
 * within `leaseSeconds` (its process died) is free again. Times are the database's, the one clock
 * every replica shares.
 */
export interface SlotHolder {
  job: string;
  attempt: number;
}

export interface SlotLease extends SlotHolder {
  key: string;
}

const heldBy = (holder: SlotHolder) =>
  sql`${appState.value}->>'job' = ${holder.job} and (${appState.value}->>'attempt')::int = ${holder.attempt}`;

const slotKey = (installationId: number, slot: number) => `github-slot:${installationId}:${slot}`;

/**
 * Takes a free slot of the installation's `slots`, if there is one: never held, expired, or held
 * by an earlier attempt of the same job (pg-boss retries a job only once that attempt is dead).
 */
export async function claimInstallationSlot(
  db: Db,
  params: { installationId: number; slots: number; holder: SlotHolder; leaseSeconds: number },
): Promise<SlotLease | undefined> {
  const { job, attempt } = params.holder;
  for (let slot = 0; slot < params.slots; slot++) {
    const key = slotKey(params.installationId, slot);
    // The upsert locks the row: of two replicas racing for one slot, the second sees the first's
    // fresh lease and moves on to the next slot.
    const [row] = await db
      .insert(appState)
      .values({ key, value: { job, attempt }, updatedAt: sql`now()` })
      .onConflictDoUpdate({
        target: appState.key,
        set: { value: { job, attempt }, updatedAt: sql`now()` },
        setWhere: sql`${appState.updatedAt} < now() - make_interval(secs => ${params.leaseSeconds})
          or ${appState.value}->>'job' = ${job}`,
      })
      .returning({ key: appState.key });
    if (row) return { key, job, attempt };
  }
  return undefined;
}

/** Extends the lease; false if it was lost (it expired and another job took the slot). */
export async function renewInstallationSlot(db: Db, lease: SlotLease): Promise<boolean> {
  const rows = await db
    .update(appState)
    .set({ updatedAt: sql`now()` })
    .where(and(eq(appState.key, lease.key), heldBy(lease)))
    .returning({ key: appState.key });
  return rows.length > 0;
}

export async function releaseInstallationSlot(db: Db, lease: SlotLease): Promise<void> {
  await db.delete(appState).where(and(eq(appState.key, lease.key), heldBy(lease)));
}
