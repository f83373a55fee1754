import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import {
  claimInstallationSlot,
  releaseInstallationSlot,
  renewInstallationSlot,
  type SlotHolder,
} from "../db/queries/installation-slots.js";
import { AttemptEndedError } from "../errors.js";
import type { JobDeps } from "./handlers/deps.js";

/** Three renewals per lease (INSTALLATION_SLOT_LEASE_SECONDS), so one slow round trip never loses it. */
const RENEWALS_PER_LEASE = 3;
/** A slot frees when a job or a backfill slice ends; a waiting job asks again this often. */
const WAIT_MS = 500;

/**
 * Runs `work` holding one of the installation's SYNC_CONCURRENCY_PER_INSTALLATION GitHub slots,
 * whatever the queue and the replica: pg-boss's group concurrency caps each queue on its own, so a
 * backfill, a refresh and a members sync of one installation could otherwise call GitHub at once.
 * While every slot is taken the job waits, claimed, until `signal` says pg-boss gave up on it.
 *
 * The attempt's deadline is the slot's too: when `signal` aborts (pg-boss expired the attempt, its
 * claim was lost, or the process is stopping) the slot is released at once and this throws
 * AttemptEndedError, without waiting for `work` to wind down. `work` can no longer reach GitHub by
 * then: the job's GitHub client carries the same signal, and its calls fail as soon as it aborts.
 */
export async function withInstallationSlot<T>(
  deps: Pick<JobDeps, "database" | "config">,
  installationId: number,
  holder: SlotHolder,
  log: Logger,
  work: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const db = deps.database.db;
  const slots = deps.config.syncConcurrencyPerInstallation;
  // A dead process's slot is free again after this long without renewal.
  const leaseSeconds = deps.config.jobs.slotLeaseSeconds;
  let lease = await claimInstallationSlot(db, { installationId, slots, holder, leaseSeconds });
  if (!lease) log.debug({ installationId, slots }, "every github slot of the installation is taken; waiting");
  while (!lease) {
    await sleep(WAIT_MS);
    // The attempt is over (expired, or its claim lost): it must not start late.
    signal?.throwIfAborted();
    lease = await claimInstallationSlot(db, { installationId, slots, holder, leaseSeconds });
  }
  const held = lease;
  const renewal = setInterval(
    () => {
      renewInstallationSlot(db, held).then(
        (renewed) => {
          if (!renewed) log.warn({ installationId, slot: held.key }, "github slot lease lost");
        },
        (error: unknown) => log.warn({ err: error, installationId }, "github slot lease not renewed"),
      );
    },
    (leaseSeconds * 1000) / RENEWALS_PER_LEASE,
  );
  const ended = attemptEnded(signal);
  try {
    return await Promise.race([work(), ended.promise]);
  } finally {
    ended.dispose();
    clearInterval(renewal);
    await releaseInstallationSlot(db, held).catch((error: unknown) =>
      log.warn({ err: error, installationId }, "github slot not released; its lease expires"),
    );
  }
}

/** Rejects with AttemptEndedError when `signal` aborts; dispose() stops listening. */
function attemptEnded(signal: AbortSignal | undefined): { promise: Promise<never>; dispose: () => void } {
  if (!signal) return { promise: new Promise<never>(() => {}), dispose: () => {} };
  let onAbort = () => {};
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(new AttemptEndedError("the job attempt ended", { cause: signal.reason }));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  return { promise, dispose: () => signal.removeEventListener("abort", onAbort) };
}
