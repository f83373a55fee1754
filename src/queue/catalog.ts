import type { Queue, QueuePolicy } from "pg-boss";
import { z } from "zod";

type QueueOptions = Omit<Queue, "name" | "policy">;

/**
 * Every queue, once: name, payload (ids only; handlers load the rest), policy and retries.
 * Queues that call GitHub are grouped by installation so workers can cap concurrency per
 * installation across every process (pg-boss group concurrency).
 */
interface QueueDefinition<S extends z.ZodType> {
  name: string;
  schema: S;
  policy: QueuePolicy;
  options: QueueOptions;
  /** Deduplication key for stately queues: one queued and one active job per key. */
  singletonKey?: (data: z.infer<S>) => string;
  /** Jobs of one installation share a concurrency group. */
  installationGroup: boolean;
  /**
   * Seconds a new job waits before it may start. With a singleton key this debounces: requests
   * made while one job is waiting are folded into it.
   */
  debounceSeconds?: number;
}

const define = <S extends z.ZodType>(definition: QueueDefinition<S>) => definition;

const installationId = z.number().int().positive();

// Retries with exponential backoff: 5 attempts span roughly 10 s → 3 min, enough to ride out a
// GitHub incident blip without hammering it.
const retrying: QueueOptions = { retryLimit: 5, retryDelay: 10, retryBackoff: true, retryDelayMax: 600 };

// Workers heartbeat running jobs; a job whose process died stops beating and is retried within
// about half a minute instead of waiting out its whole expiry. Sync jobs resume from their cursor.
const watched: QueueOptions = { ...retrying, heartbeatSeconds: 30 };

export const catalog = {
  processWebhook: define({
    name: "process-webhook",
    schema: z.object({ deliveryId: z.string().min(1) }),
    policy: "standard",
    // Webhooks are processed as soon as they are committed, not at the next poll. The heartbeat
    // hands a job whose process died (or lost Postgres) to another worker within a minute or so.
    options: { ...watched, expireInSeconds: 300, notify: true },
    installationGroup: false,
  }),
  refreshPullRequest: define({
    name: "refresh-pull-request",
    schema: z.object({
      installationId,
      repoId: z.number().int().positive(),
      pullRequestId: z.number().int().positive(),
      nodeId: z.string().min(1),
    }),
    policy: "stately",
    options: { ...watched, expireInSeconds: 300 },
    singletonKey: (data) => `${data.installationId}:${data.pullRequestId}`,
    installationGroup: true,
  }),
  syncRepositories: define({
    name: "sync-repositories",
    schema: z.object({ installationId }),
    policy: "stately",
    options: { ...watched, expireInSeconds: 600 },
    singletonKey: (data) => String(data.installationId),
    installationGroup: true,
  }),
  backfillRepo: define({
    name: "backfill-repo",
    schema: z.object({ installationId, repoId: z.number().int().positive() }),
    policy: "stately",
    // One page per job run is quick, but a whole backfill runs as chained jobs; a page gets 10 min.
    options: { ...watched, expireInSeconds: 600 },
    singletonKey: (data) => String(data.repoId),
    installationGroup: true,
  }),
  deltaSync: define({
    name: "delta-sync",
    schema: z.object({ installationId, repoIds: z.array(z.number().int().positive()).optional() }),
    policy: "stately",
    options: { ...watched, expireInSeconds: 1800 },
    // Also run nightly, per installation, by queue/schedule.ts with the same key.
    singletonKey: (data) => String(data.installationId),
    installationGroup: true,
  }),
  membersSync: define({
    name: "members-sync",
    schema: z.object({ installationId }),
    policy: "stately",
    options: { ...watched, expireInSeconds: 600 },
    singletonKey: (data) => String(data.installationId),
    installationGroup: true,
  }),
  refreshWeeklyMetrics: define({
    // The weeks to refresh wait in weekly_metrics_pending; one job per installation takes them all.
    name: "weekly-metrics",
    schema: z.object({ installationId }),
    policy: "stately",
    options: { ...retrying, expireInSeconds: 300 },
    singletonKey: (data) => String(data.installationId),
    installationGroup: false,
    // A backfill writes a page every second or so: refresh once for a few pages, not once per page.
    debounceSeconds: 3,
  }),
} as const;

export type Catalog = typeof catalog;
export type QueueKey = keyof Catalog;
export type JobData<K extends QueueKey> = z.infer<Catalog[K]["schema"]>;
