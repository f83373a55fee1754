import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import type { Probot } from "probot";
import type { Config } from "../../config.js";
import type { Database } from "../../db/client.js";
import type { GitHubAppClientFactory } from "../../github/app-client.js";
import type { GitHubClientFactory } from "../../github/installation-client.js";
import type { JobData, QueueKey } from "../../queue/catalog.js";
import type { AppMetrics } from "../../observability/metrics.js";

/** What job handlers get from the composition root (src/runtime.ts). */
export interface JobDeps {
  config: Config;
  database: Database;
  boss: PgBoss;
  /** Replays stored webhook deliveries through the handlers in src/webhooks. */
  probot: Probot;
  github: GitHubClientFactory;
  /** GitHub as the App (JWT): webhook deliveries, and whether an installation still exists. */
  app: GitHubAppClientFactory;
  log: Logger;
  /** The clock: sync windows, progress and pauses are computed from it, never from Date.now(). */
  now: () => Date;
  /** Prometheus metrics (src/observability); absent in tests that build deps by hand. */
  metrics?: AppMetrics;
  /** Aborted when the process stops: long jobs end early and queue their continuation. */
  stopping?: AbortSignal;
}

export interface JobContext {
  jobId: string;
  log: Logger;
  /** No retry follows if this attempt fails: the place to record a terminal error. */
  finalAttempt: boolean;
  /**
   * Aborted when the attempt is over: pg-boss expired it (expireInSeconds is its deadline), its
   * claim was lost, or the process stopped. The attempt's GitHub client carries it.
   */
  signal: AbortSignal;
}

/**
 * What a handler may return: stored by pg-boss as the job's output, so a job that ended without
 * doing its work says why (an uninstalled installation, a deleted repository...).
 */
export type JobOutput = Record<string, unknown> | void;

/** One job of a batch handler's fetch. */
export interface BatchJob<K extends QueueKey> {
  data: JobData<K>;
  context: JobContext;
}

/** How one job of a batch ended: its output, or the error that fails (or reschedules) it. */
export type BatchOutcome = { ok: true; output?: JobOutput } | { ok: false; error: unknown };

/** A handler that takes a whole fetch of jobs: one outcome per job, in their order. */
export type BatchHandler<K extends QueueKey> = (jobs: BatchJob<K>[]) => Promise<BatchOutcome[]>;
