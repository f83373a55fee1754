import { PgBoss, type ConstructorOptions, type SendOptions } from "pg-boss";
import type { Logger } from "pino";
import { jobDatabase, type Db } from "../db/client.js";
import { catalog, type JobData, type QueueKey } from "./catalog.js";

export type Boss = PgBoss;

/** Starts pg-boss on the app's database and creates (or updates) every queue of the catalog. */
export async function startBoss(
  url: string,
  log: Logger,
  overrides: Partial<ConstructorOptions> = {},
): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    max: 4,
    application_name: "pr-pulse-jobs",
    // LISTEN/NOTIFY wakes a worker the moment a webhook job is committed; polling stays as the floor.
    useListenNotify: true,
    // Workers skip the keys of stately jobs that were running at the last look at the queues, so a
    // job queued behind one (a backfill's next slice, a debounced refresh, one a dead replica held)
    // waits for the next look: every 10 s rather than every minute.
    queueCacheIntervalSeconds: 10,
    ...overrides,
  });
  boss.on("error", (error) => log.error({ err: error }, "pg-boss error"));
  await boss.start();
  for (const definition of Object.values(catalog)) {
    const existing = await boss.getQueue(definition.name);
    if (!existing) {
      await boss.createQueue(definition.name, { policy: definition.policy, ...definition.options });
    } else {
      // retryDelayMax is fixed when a queue is created; the rest follows the catalog on every start.
      const { retryDelayMax: _delayMax, ...updatable } = definition.options;
      await boss.updateQueue(definition.name, updatable);
    }
  }
  return boss;
}

export interface EnqueueOptions {
  /** A transaction (see withTransaction): the job is created only if it commits. */
  tx?: Db;
  startAfter?: Date | number;
}

/** The typed way to queue work: the payload is checked against the catalog before it is sent. */
export async function enqueue<K extends QueueKey>(
  boss: PgBoss,
  key: K,
  data: JobData<K>,
  options: EnqueueOptions = {},
): Promise<string | null> {
  const definition = catalog[key];
  const payload = definition.schema.parse(data) as JobData<K>;
  const sendOptions: SendOptions = {};
  const { singletonKey, debounceSeconds } = definition as {
    singletonKey?: (d: JobData<K>) => string;
    debounceSeconds?: number;
  };
  if (singletonKey) sendOptions.singletonKey = singletonKey(payload);
  if (definition.installationGroup && "installationId" in payload) {
    sendOptions.group = { id: String(payload.installationId) };
  }
  if (options.tx) sendOptions.db = jobDatabase(options.tx);
  const startAfter = options.startAfter ?? debounceSeconds;
  if (startAfter !== undefined) sendOptions.startAfter = startAfter;
  return boss.send(definition.name, payload as object, sendOptions);
}
