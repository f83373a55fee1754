import type { PgBoss } from "pg-boss";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "../db/client.js";
import { countRepositoriesBySyncStatus } from "../db/queries/repositories.js";

/**
 * The Prometheus metrics of one process: one registry, created by the runtime and handed to the
 * server (GET /metrics, webhook intake), the job workers and the GitHub client factory. Each
 * replica is scraped on its own; counters add up across replicas, the queue and repository gauges
 * are the same everywhere (they are read from Postgres).
 */

/** What a GitHub client reports about the calls it makes for one installation. */
export interface GitHubUsage {
  request(api: "rest" | "graphql"): void;
  points(cost: number): void;
  rateLimit(state: { limit: number; remaining: number }): void;
}

export type WebhookIntakeOutcome =
  | "accepted"
  | "duplicate"
  | "ignored"
  | "refused"
  | "unauthorized"
  | "too_large"
  | "rate_limited"
  | "unavailable"
  | "error";

export type WebhookProcessingOutcome = "processed" | "ignored" | "retry" | "failed";
export type JobOutcome = "completed" | "failed" | "rate_limited";

// Acknowledgement is what GitHub waits for (it gives up after 10 s); processing can wait for a
// queue, a retry or a rate-limit pause, so its buckets reach an hour.
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const PROCESSING_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 900, 3600];
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
const SYNC_BUCKETS = [0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];

export class AppMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;

  readonly #webhookDeliveries = new Counter({
    name: "prpulse_webhook_deliveries_total",
    help: "Webhook deliveries received, by event and intake outcome.",
    labelNames: ["event", "outcome"] as const,
    registers: [this.registry],
  });
  readonly #webhookAck = new Histogram({
    name: "prpulse_webhook_ack_seconds",
    help: "Time from a webhook request to its answer (what GitHub waits for).",
    labelNames: ["outcome"] as const,
    buckets: ACK_BUCKETS,
    registers: [this.registry],
  });
  readonly #webhookProcessed = new Counter({
    name: "prpulse_webhook_processed_total",
    help: "Webhook processing attempts, by event and outcome.",
    labelNames: ["event", "outcome"] as const,
    registers: [this.registry],
  });
  readonly #webhookProcessing = new Histogram({
    name: "prpulse_webhook_processing_seconds",
    help: "Time from a delivery's receipt to the end of its processing.",
    labelNames: ["event"] as const,
    buckets: PROCESSING_BUCKETS,
    registers: [this.registry],
  });
  readonly #jobDuration = new Histogram({
    name: "prpulse_job_duration_seconds",
    help: "Job run time in this process, by queue and outcome.",
    labelNames: ["queue", "outcome"] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });
  readonly #githubRequests = new Counter({
    name: "prpulse_github_requests_total",
    help: "Requests to GitHub's API, by installation and API.",
    labelNames: ["installation", "api"] as const,
    registers: [this.registry],
  });
  readonly #githubPoints = new Counter({
    name: "prpulse_github_graphql_points_total",
    help: "GraphQL rate-limit points spent, by installation.",
    labelNames: ["installation"] as const,
    registers: [this.registry],
  });
  readonly #githubRemaining = new Gauge({
    name: "prpulse_github_rate_limit_remaining",
    help: "GraphQL rate-limit points left in the current hour, by installation (as last seen).",
    labelNames: ["installation"] as const,
    registers: [this.registry],
  });
  readonly #githubLimit = new Gauge({
    name: "prpulse_github_rate_limit_limit",
    help: "GraphQL rate-limit points per hour, by installation (as last seen).",
    labelNames: ["installation"] as const,
    registers: [this.registry],
  });
  readonly #syncDuration = new Histogram({
    name: "prpulse_sync_duration_seconds",
    help: "Time to sync one repository: a whole backfill, or one delta sync.",
    labelNames: ["kind"] as const,
    buckets: SYNC_BUCKETS,
    registers: [this.registry],
  });
  readonly #syncDrift = new Counter({
    name: "prpulse_sync_drift_total",
    help: "Changes the delta sync found that webhooks had not delivered, by installation.",
    labelNames: ["installation"] as const,
    registers: [this.registry],
  });
  #boss: PgBoss | undefined;
  #database: Database | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "prpulse_" });
    // collect() runs with the gauge as `this`; these reach the sources set by watch().
    const readQueues = () => this.#readQueues();
    const database = () => this.#database;
    new Gauge({
      name: "prpulse_queue_jobs",
      help: "Jobs per queue and state: ready (runnable now), deferred (waiting to start), active.",
      labelNames: ["queue", "state"] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const queue of await readQueues()) {
          this.set({ queue: queue.name, state: "ready" }, queue.readyCount);
          this.set({ queue: queue.name, state: "deferred" }, queue.deferredCount);
          this.set({ queue: queue.name, state: "active" }, queue.activeCount);
        }
      },
    });
    new Gauge({
      name: "prpulse_queue_failed_jobs",
      help: "Jobs that ended failed (retries exhausted) and are still kept, per queue.",
      labelNames: ["queue"] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const queue of await readQueues()) this.set({ queue: queue.name }, queue.failedCount);
      },
    });
    new Gauge({
      name: "prpulse_repositories",
      help: "Tracked repositories by sync status; queued or syncing for long means a stuck sync.",
      labelNames: ["status"] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const db = database()?.db;
        if (!db) return;
        const rows = await countRepositoriesBySyncStatus(db).catch(() => []);
        for (const row of rows) {
          this.set({ status: row.status }, row.count);
        }
      },
    });
  }

  /** Where the queue and repository gauges are read from (the runtime calls it once started). */
  watch(sources: { boss?: PgBoss | undefined; database: Database }): void {
    this.#boss = sources.boss;
    this.#database = sources.database;
  }

  webhookReceived(event: string, outcome: WebhookIntakeOutcome, seconds: number): void {
    this.#webhookDeliveries.inc({ event, outcome });
    this.#webhookAck.observe({ outcome }, seconds);
  }

  webhookProcessed(event: string, outcome: WebhookProcessingOutcome, receivedAt?: Date): void {
    this.#webhookProcessed.inc({ event, outcome });
    if (receivedAt && (outcome === "processed" || outcome === "ignored")) {
      this.#webhookProcessing.observe({ event }, Math.max(0, (Date.now() - receivedAt.getTime()) / 1000));
    }
  }

  /** Starts timing a job; call the result with how it ended. */
  startJob(queue: string): (outcome: JobOutcome) => void {
    const end = this.#jobDuration.startTimer({ queue });
    return (outcome) => end({ outcome });
  }

  githubUsage(installationId: number): GitHubUsage {
    const installation = String(installationId);
    return {
      request: (api) => this.#githubRequests.inc({ installation, api }),
      points: (cost) => this.#githubPoints.inc({ installation }, cost),
      rateLimit: (state) => {
        this.#githubRemaining.set({ installation }, state.remaining);
        this.#githubLimit.set({ installation }, state.limit);
      },
    };
  }

  syncFinished(kind: "backfill" | "delta", seconds: number): void {
    this.#syncDuration.observe({ kind }, Math.max(0, seconds));
  }

  driftFound(installationId: number, drift: number): void {
    if (drift > 0) this.#syncDrift.inc({ installation: String(installationId) }, drift);
  }

  /** The exposition text of every metric. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }

  async #readQueues() {
    if (!this.#boss) return [];
    // A scrape must not fail because the queue is unreachable: /readyz says so.
    return this.#boss.getQueues().catch(() => []);
  }
}
