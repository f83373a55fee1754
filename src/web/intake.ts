import type { PgBoss } from "pg-boss";
import { withTransaction, type Database } from "../db/client.js";
import {
  insertDeliveries,
  payloadFormat,
  storable,
  type NewRawDelivery,
  type PayloadFormat,
  type StorableRawDelivery,
} from "../db/queries/webhook-deliveries.js";
import { enqueueMany } from "../queue/boss.js";
import { processingJob, type JobData } from "../queue/catalog.js";

/**
 * Stores accepted deliveries durably: each delivery row, and for handled ones a processing job,
 * committed before GitHub gets its 2xx.
 *
 * Deliveries arriving together are committed together (group commit): while `MAX_FLUSHES`
 * transactions are in flight, new deliveries wait and go into the next one. Under a burst that
 * turns a transaction per delivery (four round trips and a WAL flush each) into one per batch; a
 * delivery arriving alone is committed at once. A batch that fails fails every delivery in it, and
 * GitHub redelivers them. The handled deliveries of a batch get one processing job per
 * installation (`deliveriesPerJob` at most), not one each: a job's insert, fetch and completion
 * are then shared by them all.
 */
export interface Intake {
  /** Resolves once the delivery (and its job, if `process`) are committed; false for a known GUID. */
  store(delivery: NewRawDelivery & { process: boolean }): Promise<{ stored: boolean }>;
}

/** Concurrent intake transactions: leaves the rest of the pool to the workers. */
const MAX_FLUSHES = 4;
/** Bound on one statement: a few MB of payloads at most. */
const MAX_BATCH = 64;

interface Waiting {
  /** Its payload as stored, or still as received while the payload format is being read. */
  delivery: (StorableRawDelivery | NewRawDelivery) & { process: boolean };
  resolve: (result: { stored: boolean }) => void;
  reject: (error: unknown) => void;
}

export function createIntake(
  database: Pick<Database, "db">,
  boss: PgBoss,
  /** WEBHOOK_BATCH_SIZE: 1 queues a job per delivery. */
  deliveriesPerJob: number,
  /** How payloads are stored; read from the database (`payloadFormat`) unless given. */
  format?: PayloadFormat,
): Intake {
  const waiting: Waiting[] = [];
  let flushes = 0;
  // Read once, from the start; deliveries arriving before it is known are converted at their
  // commit. A failed read fails that commit, as any database error would, and is tried again.
  let known = format;
  let formatRead: Promise<PayloadFormat> | undefined = known ? Promise.resolve(known) : undefined;
  const readFormat = () =>
    (formatRead ??= payloadFormat(database.db).then(
      (read) => (known = read),
      (error: unknown) => {
        formatRead = undefined;
        throw error;
      },
    ));
  readFormat().catch(() => {});

  async function commit(batch: Waiting[]): Promise<Set<string>> {
    const read = await readFormat();
    return withTransaction(database, async (db) => {
      const stored = await insertDeliveries(
        db,
        batch.map(({ delivery: { process: _process, ...row } }) =>
          "payloadJson" in row ? storable(row, read) : row,
        ),
      );
      const toProcess = batch.filter(({ delivery }) => delivery.process && stored.has(delivery.id));
      await enqueueMany(boss, "processWebhook", jobsByInstallation(toProcess, deliveriesPerJob), {
        tx: db,
      });
      return stored;
    });
  }

  function flush(): void {
    while (flushes < MAX_FLUSHES && waiting.length > 0) {
      // The same GUID twice in one statement would fail it: a repeat waits for the next batch.
      const batch: Waiting[] = [];
      const ids = new Set<string>();
      for (let i = 0; i < waiting.length && batch.length < MAX_BATCH;) {
        const entry = waiting[i]!;
        if (ids.has(entry.delivery.id)) {
          i++;
          continue;
        }
        ids.add(entry.delivery.id);
        batch.push(entry);
        waiting.splice(i, 1);
      }
      flushes++;
      commit(batch)
        .then(
          (stored) => {
            for (const entry of batch) entry.resolve({ stored: stored.has(entry.delivery.id) });
          },
          (error: unknown) => {
            for (const entry of batch) entry.reject(error);
          },
        )
        .finally(() => {
          flushes--;
          flush();
        });
    }
  }

  return {
    store({ process, ...delivery }) {
      return new Promise((resolve, reject) => {
        const row = known ? storable(delivery, known) : delivery;
        waiting.push({ delivery: { ...row, process }, resolve, reject });
        flush();
      });
    },
  };
}

/** Jobs for these deliveries, in their order of arrival: those of one installation together, `size` at most. */
function jobsByInstallation(entries: Waiting[], size: number): JobData<"processWebhook">[] {
  const jobs: ReturnType<typeof processingJob>[] = [];
  const open = new Map<number | null, (typeof jobs)[number]>();
  for (const { delivery } of entries) {
    const { installationId } = delivery;
    let job = open.get(installationId);
    if (!job || job.deliveryIds.length >= size) {
      job = processingJob([], installationId);
      jobs.push(job);
      open.set(installationId, job);
    }
    job.deliveryIds.push(delivery.id);
  }
  return jobs;
}
