import { PgBoss, type ConstructorOptions, type Queue, type SendOptions } from "pg-boss";
import type { Logger } from "pino";
import type { JobTiming } from "../config.js";
import { jobDatabase, withTransaction, type Database, type Db } from "../db/client.js";
import { markWeeksPending } from "../db/queries/weekly-metrics.js";
import { catalog, retiredQueues, type JobData, type QueueKey } from "./catalog.js";

export type Boss = PgBoss;

/** The timing each started boss was configured with: enqueue() reads its debounce from here. */
const timings = new WeakMap<PgBoss, JobTiming>();

/** Starts pg-boss on the app's database and creates (or updates) every queue of the catalog. */
export async function startBoss(
  url: string,
  log: Logger,
  timing: JobTiming,
  overrides: Partial<ConstructorOptions> = {},
): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: url,
    max: 4,
    application_name: "pr-pulse-jobs", // the runtime names it after DATABASE_APPLICATION_NAME
    // LISTEN/NOTIFY wakes a worker the moment a webhook job is committed; polling stays as the floor.
    useListenNotify: true,
    // A supervise pass fails jobs whose worker died (missed heartbeats) and refreshes the queue
    // stats "stately" fetches consult; every 10 s (the default) instead of every minute bounds both.
    superviseIntervalSeconds: timing.superviseIntervalSeconds,
    monitorIntervalSeconds: timing.superviseIntervalSeconds,
    // Workers skip the keys of stately jobs that were running at the last look at the queues, so a
    // job queued behind one (a backfill's next slice, a debounced refresh, one a dead replica held)
    // waits for the next look: as often as the supervise pass rather than every minute.
    queueCacheIntervalSeconds: timing.superviseIntervalSeconds,
    ...overrides,
  });
  boss.on("error", (error) => log.error({ err: error }, "pg-boss error"));
  await boss.start();
  timings.set(boss, timing);
  for (const definition of Object.values(catalog)) {
    const options = queueOptions(definition.options, timing);
    const existing = await boss.getQueue(definition.name);
    if (!existing) {
      await boss.createQueue(definition.name, { policy: definition.policy, ...options });
    } else {
      // retryDelayMax is fixed when a queue is created; the rest follows the catalog on every start.
      const { retryDelayMax: _delayMax, ...updatable } = options;
      await boss.updateQueue(definition.name, updatable);
    }
  }
  return boss;
}

/** A catalog queue's pg-boss options, with the configured retry delay and heartbeat. */
function queueOptions(
  options: (typeof catalog)[QueueKey]["options"],
  timing: JobTiming,
): Omit<Queue, "name" | "policy"> {
  const { heartbeat, ...rest } = options as typeof options & { heartbeat?: true };
  return {
    retryDelay: timing.retryDelaySeconds,
    ...rest,
    ...(heartbeat ? { heartbeatSeconds: timing.heartbeatSeconds } : {}),
  };
}

export interface EnqueueOptions {
  /** A transaction (see withTransaction): the job is created only if it commits. */
  tx?: Db;
  startAfter?: Date | number;
}

/** Options a queue's definition gives every job sent to it through `boss`. */
function jobOptions<K extends QueueKey>(boss: PgBoss, key: K, payload: JobData<K>): SendOptions {
  const definition = catalog[key];
  const options: SendOptions = {};
  const { singletonKey, debounced } = definition as {
    singletonKey?: (d: JobData<K>) => string;
    debounced?: true;
  };
  if (singletonKey) options.singletonKey = singletonKey(payload);
  if (definition.installationGroup && "installationId" in payload) {
    options.group = { id: String(payload.installationId) };
  }
  if (debounced) options.startAfter = debounceSeconds(boss);
  return options;
}

/** The debounce the boss was started with (every boss of the app comes from startBoss). */
function debounceSeconds(boss: PgBoss): number {
  const timing = timings.get(boss);
  if (!timing) throw new Error("a debounced job was sent through a pg-boss that startBoss did not start");
  return timing.weeklyMetricsDebounceSeconds;
}

/** Queues many jobs of one queue in one statement (in `tx` when given). */
export async function enqueueMany<K extends QueueKey>(
  boss: PgBoss,
  key: K,
  data: JobData<K>[],
  options: { tx?: Db } = {},
): Promise<void> {
  if (data.length === 0) return;
  const definition = catalog[key];
  const jobs = data.map((item) => {
    const payload = definition.schema.parse(item) as JobData<K>;
    const { singletonKey, group, startAfter } = jobOptions(boss, key, payload);
    return { data: payload as object, singletonKey, group, startAfter };
  });
  await boss.insert(definition.name, jobs, options.tx ? { db: jobDatabase(options.tx) } : {});
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
  const sendOptions = jobOptions(boss, key, payload);
  if (options.tx) sendOptions.db = jobDatabase(options.tx);
  if (options.startAfter !== undefined) sendOptions.startAfter = options.startAfter;
  return boss.send(definition.name, payload as object, sendOptions);
}

/**
 * Moves the waiting jobs of queues earlier versions used to the queues that replaced them, then
 * deletes the old queues. Idempotent, and safe when several replicas start together: the moved
 * jobs are deduplicated by their singleton keys and pending weeks by their primary key.
 */
export async function retireQueues(boss: PgBoss, database: Pick<Database, "db">, log: Logger): Promise<void> {
  if (await boss.getQueue(retiredQueues.backfill)) {
    const jobs = await boss.findJobs<{ installationId: number; repoId: number }>(retiredQueues.backfill, {
      queued: true,
    });
    for (const job of jobs) await enqueue(boss, "backfillRepo", job.data);
    await boss.deleteQueue(retiredQueues.backfill);
    log.info({ queue: retiredQueues.backfill, moved: jobs.length }, "retired queue");
  }
  if (await boss.getQueue(retiredQueues.weekly)) {
    const jobs = await boss.findJobs<{ installationId: number; weeks: string[] }>(retiredQueues.weekly, {
      queued: true,
    });
    for (const { data } of jobs) {
      await withTransaction(database, async (db) => {
        await markWeeksPending(db, data.installationId, data.weeks);
        await enqueue(boss, "refreshWeeklyMetrics", { installationId: data.installationId }, { tx: db });
      });
    }
    await boss.deleteQueue(retiredQueues.weekly);
    log.info({ queue: retiredQueues.weekly, moved: jobs.length }, "retired queue");
  }
}
