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
  /** What admins see (webhook health page). */
  label: string;
  schema: S;
  policy: QueuePolicy;
  /**
   * expireInSeconds is stated for every queue: it is an attempt's deadline. When it passes, pg-boss
   * gives the attempt up (and retries it), and a GitHub-calling attempt stops calling GitHub and
   * frees its installation slot (see src/jobs/job-deadlines.ts for how it bounds GitHub's).
   */
  options: QueueOptions & {
    expireInSeconds: number;
    /** Heartbeats every JOB_HEARTBEAT_SECONDS (queue/boss.ts queueOptions applies it). */
    heartbeat?: true;
  };
  /** Deduplication key for stately queues: one queued and one active job per key. */
  singletonKey?: (data: z.infer<S>) => string;
  /** Jobs of one installation share a concurrency group. */
  installationGroup: boolean;
  /**
   * New jobs wait WEEKLY_METRICS_DEBOUNCE_SECONDS before they may start. With a singleton key this
   * debounces: requests made while one job is waiting are folded into it.
   */
  debounced?: true;
}

const define = <S extends z.ZodType>(definition: QueueDefinition<S>) => definition;

const installationId = z.number().int().positive();

/** The most deliveries one process-webhook job names: WEBHOOK_BATCH_SIZE's cap (src/config.ts). */
export const MAX_DELIVERIES_PER_JOB = 100;

/** A process-webhook job for deliveries of one installation (none for an event without one). */
export function processingJob(
  deliveryIds: string[],
  installationId: number | null,
): { deliveryIds: string[]; installationId?: number } {
  return { deliveryIds, ...(installationId === null ? {} : { installationId }) };
}

/** The deliveries a process-webhook job names, whichever version queued it. */
export function deliveryIdsOf(data: JobData<"processWebhook">): string[] {
  return "deliveryIds" in data ? data.deliveryIds : [data.deliveryId];
}

// Retries with exponential backoff from JOB_RETRY_DELAY_SECONDS (queue/boss.ts queueOptions): with
// its default of 10 s, 5 attempts span roughly 10 s → 3 min, enough to ride out a GitHub incident
// blip without hammering it.
const retrying: QueueOptions = { retryLimit: 5, retryBackoff: true, retryDelayMax: 600 };

// Workers heartbeat running jobs; a job whose process died stops beating and is retried within
// about JOB_HEARTBEAT_SECONDS (30 by default) instead of waiting out its whole expiry. Sync jobs
// resume from their cursor.
const watched = { ...retrying, heartbeat: true } as const;

export const catalog = {
  processWebhook: define({
    name: "process-webhook",
    label: "Webhook processing",
    // The deliveries of one installation that the intake committed together: one job for them all
    // (a job per delivery was a third of the database time per delivery: its insert, fetch and
    // completion). Jobs of versions before that name one delivery (deliveryId).
    schema: z.union([
      z.object({
        deliveryIds: z.array(z.string().min(1)).min(1).max(MAX_DELIVERIES_PER_JOB),
        installationId: installationId.optional(),
      }),
      z.object({ deliveryId: z.string().min(1) }),
    ]),
    policy: "standard",
    // Webhooks are processed as soon as they are committed, not at the next poll. The heartbeat
    // hands a job whose process died (or lost Postgres) to another worker within a minute or so.
    // The delivery row keeps the outcome, so finished jobs need not stay for a week.
    options: { ...watched, expireInSeconds: 300, notify: true, deleteAfterSeconds: 3600 },
    installationGroup: false,
  }),
  refreshPullRequest: define({
    name: "refresh-pull-request",
    label: "Pull request refresh",
    schema: z.object({
      installationId,
      repoId: z.number().int().positive(),
      pullRequestId: z.number().int().positive(),
      nodeId: z.string().min(1),
    }),
    policy: "stately",
    // A few queries; 600 s leaves room for the slowest call with its retries (src/jobs/job-deadlines.ts).
    options: { ...watched, expireInSeconds: 600, deleteAfterSeconds: 86_400 },
    singletonKey: (data) => `${data.installationId}:${data.pullRequestId}`,
    installationGroup: true,
  }),
  syncRepositories: define({
    name: "sync-repositories",
    label: "Repository list sync",
    schema: z.object({ installationId }),
    policy: "stately",
    options: { ...watched, expireInSeconds: 600 },
    singletonKey: (data) => String(data.installationId),
    installationGroup: true,
  }),
  backfillRepo: define({
    name: "backfill",
    label: "Backfill",
    schema: z.object({ installationId, repoId: z.number().int().positive() }),
    // One queued job per repository, and a repository advisory lock (sync/backfill.ts) keeps two
    // from working it at once. Not "stately": pg-boss skips keys it last saw active in a cache
    // refreshed once a minute, which left a backfill's next slice waiting up to two minutes.
    policy: "short",
    // A slice starts pages for 20 s; a whole backfill runs as chained slices, woken at once by
    // NOTIFY. 900 s: the slice, plus the page in flight when it ends with the longest GitHub
    // deadlines allowed to it (src/jobs/job-deadlines.ts).
    options: { ...watched, expireInSeconds: 900, notify: true },
    singletonKey: (data) => String(data.repoId),
    installationGroup: true,
  }),
  deltaSync: define({
    name: "delta-sync",
    label: "Nightly delta sync",
    schema: z.object({ installationId, repoIds: z.array(z.number().int().positive()).optional() }),
    policy: "stately",
    options: { ...watched, expireInSeconds: 1800 },
    // Also run nightly, per installation, by queue/schedule.ts with the same key.
    singletonKey: (data) => String(data.installationId),
    installationGroup: true,
  }),
  membersSync: define({
    name: "members-sync",
    label: "Members sync",
    schema: z.object({ installationId }),
    policy: "stately",
    options: { ...watched, expireInSeconds: 600 },
    singletonKey: (data) => String(data.installationId),
    installationGroup: true,
  }),
  refreshWeeklyMetrics: define({
    // The weeks to refresh wait in weekly_metrics_pending; one job per installation takes them all.
    name: "weekly-metrics",
    label: "Weekly metrics",
    schema: z.object({ installationId }),
    policy: "stately",
    options: { ...watched, expireInSeconds: 300 },
    singletonKey: (data) => String(data.installationId),
    installationGroup: false,
    // A backfill writes a page every second or so: refresh once for a few pages, not once per page.
    debounced: true,
  }),
  recomputePullRequests: define({
    name: "recompute-pull-requests",
    label: "Recompute after new settings",
    // Recomputes of one installation take turns (sync/recompute.ts), each with the settings of its start.
    schema: z.object({ installationId }),
    policy: "standard",
    options: { ...watched, expireInSeconds: 1800 },
    installationGroup: false,
  }),
  redeliverWebhooks: define({
    // Retries failed deliveries from our table, then asks GitHub for the ones it failed to deliver.
    name: "redeliver-webhooks",
    label: "Redelivery of failed webhooks",
    schema: z.object({}),
    policy: "stately",
    // Scheduled every few minutes: a run that fails twice waits for the next one. The heartbeat
    // frees the key of a run whose process died within a minute, so the scan at the restart runs.
    options: {
      retryLimit: 2,
      retryDelay: 30,
      retryBackoff: true,
      expireInSeconds: 300,
      heartbeat: true,
    },
    singletonKey: () => "all",
    installationGroup: false,
  }),
  reconcileInstallations: define({
    // The App's installations on GitHub against the stored ones: hourly, at start, at sign-in.
    name: "reconcile-installations",
    label: "Installation reconciliation",
    schema: z.object({}),
    policy: "stately",
    options: { ...watched, expireInSeconds: 300 },
    singletonKey: () => "all",
    installationGroup: false,
  }),
  confirmInstallation: define({
    // An installation.deleted delivery: marked deleted only once GitHub answers 404 for it.
    name: "confirm-installation",
    label: "Uninstall confirmation",
    schema: z.object({ installationId }),
    policy: "stately",
    options: { ...watched, expireInSeconds: 120 },
    singletonKey: (data) => String(data.installationId),
    installationGroup: false,
  }),
  retention: define({
    // Daily: drops old webhook payloads and queues the purge of long-uninstalled installations.
    name: "retention",
    label: "Retention",
    schema: z.object({}),
    policy: "stately",
    options: { ...watched, expireInSeconds: 600 },
    singletonKey: () => "all",
    installationGroup: false,
  }),
  purgeInstallation: define({
    name: "purge-installation",
    label: "Purge of an uninstalled installation",
    schema: z.object({ installationId }),
    policy: "stately",
    options: { ...watched, expireInSeconds: 600 },
    singletonKey: (data) => String(data.installationId),
    installationGroup: false,
  }),
} as const;

export type Catalog = typeof catalog;
export type QueueKey = keyof Catalog;
export type JobData<K extends QueueKey> = z.infer<Catalog[K]["schema"]>;

/**
 * Queues of earlier versions: their waiting jobs move to the queue that replaced them, then they
 * are deleted (see retireQueues in boss.ts).
 */
export const retiredQueues = {
  /** Was "stately": pg-boss's cached view of active keys held each next slice back. */
  backfill: "backfill-repo",
  /** Carried the weeks in the job; they wait in weekly_metrics_pending now. */
  weekly: "refresh-weekly-metrics",
} as const;
