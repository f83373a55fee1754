import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import dotenv from "dotenv";
import { z } from "zod";

const optional = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : value));

const integer = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === "") return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < 0) {
        ctx.addIssue({ code: "custom", message: `must be a non-negative integer, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    });

/**
 * A GitHub deadline in milliseconds: at least 100 ms (tests use short ones), at most two minutes
 * (an answer slower than that is no answer; jobs/job-deadlines.ts checks them against job expiries).
 */
const deadlineMs = (fallback: number) =>
  integer(fallback).pipe(
    z.number().min(100, "must be at least 100 ms").max(120_000, "must be at most 120000 ms (two minutes)"),
  );

const envSchema = z.object({
  NODE_ENV: optional,
  PORT: integer(3000),
  HOST: z.string().default("0.0.0.0"),
  /** Where the App is reachable from browsers (setup redirect URLs, OAuth callbacks). */
  BASE_URL: optional.pipe(z.url().optional()),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),

  DATABASE_URL: optional.pipe(z.url().optional()),
  /** Connections of the app's own pool (pg-boss keeps a smaller one of its own). */
  DATABASE_POOL_SIZE: integer(20),
  /** Names the app's Postgres sessions (pg_stat_activity); its jobs' sessions add "-jobs". */
  DATABASE_APPLICATION_NAME: z.string().trim().min(1).max(40).default("pr-pulse"),
  EMBEDDED_POSTGRES_DIR: z.string().default(".data/postgres"),
  EMBEDDED_POSTGRES_PORT: integer(54329),

  APP_ID: optional.pipe(z.string().regex(/^\d+$/, "must be the numeric App ID").optional()),
  PRIVATE_KEY: optional,
  PRIVATE_KEY_PATH: optional,
  WEBHOOK_SECRET: optional,
  GITHUB_CLIENT_ID: optional,
  GITHUB_CLIENT_SECRET: optional,
  WEBHOOK_PROXY_URL: optional.pipe(z.url().optional()),
  /** Organization to register the App under in the manifest flow (else the signed-in user). */
  GH_ORG: optional,
  GHE_HOST: optional,
  GHE_PROTOCOL: z.enum(["https", "http"]).default("https"),
  /** Per attempt: connecting to GitHub, a REST answer, a GraphQL answer (README "Configuration"). */
  GITHUB_CONNECT_TIMEOUT_MS: deadlineMs(10_000),
  GITHUB_REST_TIMEOUT_MS: deadlineMs(30_000),
  GITHUB_GRAPHQL_TIMEOUT_MS: deadlineMs(60_000),

  /**
   * Least time between two GraphQL queries (or REST writes) of one installation: Octokit's pacing
   * (@octokit/plugin-throttling spaces them a second apart, as GitHub asks of mutating requests).
   */
  GITHUB_WRITE_INTERVAL_MS: integer(1000).pipe(z.number().max(10_000, "must be at most 10000 ms")),

  /** Largest webhook body accepted; GitHub caps payloads at 25 MB. */
  WEBHOOK_BODY_LIMIT_BYTES: integer(25 * 1024 * 1024),
  /** Share of each hour's API budget kept for webhook-driven work, in percent. */
  RATE_LIMIT_RESERVE_PERCENT: integer(10),
  /**
   * Concurrent GitHub sync jobs per installation, across every process: its queries in flight at
   * once. Their starts stay a second apart (GITHUB_WRITE_INTERVAL_MS), so a third slot adds no
   * points a minute and no requests a second; it fills the seconds in which two queries of 2–3 s
   * are both out (first insight, bench:first-insight: 30.6 s with 2, 27.1 s with 3). GitHub allows
   * 100 concurrent requests.
   */
  SYNC_CONCURRENCY_PER_INSTALLATION: integer(3),
  /** Days of every repository's history a first backfill brings in before any goes deeper; 0: off. */
  BACKFILL_FIRST_WINDOW_DAYS: integer(30),
  /**
   * Pull requests stored without labels (before they were stored) a delta sync fetches again, newest
   * first; 0: off. At most 5000: 152 queries, inside the delta job's 30-minute deadline even at the
   * slowest pacing (GITHUB_WRITE_INTERVAL_MS 10000).
   */
  MISSING_LABELS_PER_RUN: integer(2000).pipe(z.number().max(5000, "must be at most 5000")),
  /**
   * Concurrent webhook-processing workers per process. 2, not 8: with jobs of several deliveries,
   * fewer workers each take a bigger fetch, and a delivery costs fewer statements (0.92 against
   * 1.49) and less CPU (bench:webhooks, sustained phase, 2026-12-06 02:57 and 03:04).
   */
  WEBHOOK_WORKER_CONCURRENCY: integer(2),
  /**
   * Deliveries of one process-webhook job (those of an installation the intake commits together),
   * and jobs a webhook worker takes per fetch; 1 makes it wait its polling interval between jobs.
   */
  WEBHOOK_BATCH_SIZE: integer(16),
  /** Signs cookies (sign-in sessions, setup state). Random per process when unset. */
  SESSION_SECRET: optional.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  SMTP_URL: optional,
  NOTIFY_EMAIL_FROM: z.string().default("PR Pulse <pr-pulse@localhost>"),
  /** Comma-separated addresses told when an installation's first backfill completes. */
  NOTIFY_EMAIL_TO: optional,
  /** File where the manifest flow stores the App's credentials. */
  ENV_FILE: z.string().default(".env"),
  /** Which proxies' X-Forwarded-* headers are believed (client address, protocol); none by default. */
  TRUST_PROXY: optional.transform((value, ctx) => {
    const parsed = parseTrustProxy(value);
    if (parsed !== undefined) return parsed;
    ctx.addIssue({
      code: "custom",
      message: `must be "false", "true", or comma-separated addresses or CIDR ranges, got "${value}"`,
    });
    return z.NEVER;
  }),

  // Operations: redelivery, retention, metrics, rate limits (README "Operations").
  /** Minutes between scans for failed webhook deliveries; 0 turns the scan off. */
  WEBHOOK_REDELIVERY_INTERVAL_MINUTES: integer(10).pipe(z.number().max(60, "must be at most 60 minutes")),
  /**
   * Minutes between reconciliations of the App's installations with GitHub's list (also run at
   * start and at sign-in); 0 turns the schedule and the run at start off.
   */
  INSTALLATION_RECONCILE_INTERVAL_MINUTES: integer(60).pipe(z.number().max(60, "must be at most 60 minutes")),
  /** Redelivery requests sent to GitHub per scan; 0 only retries deliveries stored here. */
  WEBHOOK_REDELIVERY_MAX_PER_RUN: integer(100),
  /** Days a delivery's payload is kept (the row stays); 0 keeps payloads forever. */
  WEBHOOK_PAYLOAD_RETENTION_DAYS: integer(14),
  /** Days an uninstalled installation's data is kept in case of reinstall; 0 keeps it forever. */
  UNINSTALLED_RETENTION_DAYS: integer(30),
  /** Bearer token for /metrics; without it /metrics answers only local, unproxied requests. */
  METRICS_TOKEN: optional.pipe(z.string().min(16, "must be at least 16 characters").optional()),
  /**
   * Refused webhook requests (wrong signature, refused body, repeated GUID) per client IP and minute
   * before that IP's requests without GitHub's User-Agent are refused unread; new deliveries never
   * count, and a correctly signed delivery is never refused. 0: no limit.
   */
  WEBHOOK_INVALID_RATE_LIMIT_PER_MINUTE: integer(30),
  /** Settings UI requests (pages, sign-in, setup) per client IP and minute; 0 turns it off. */
  UI_RATE_LIMIT_PER_MINUTE: integer(300),

  // Job timing (README "Configuration"): the defaults suit production; tests shorten them.
  /** Seconds between a running job's heartbeats; pg-boss hands a silent job to another worker. */
  JOB_HEARTBEAT_SECONDS: integer(30).pipe(
    z
      .number()
      .min(10, "must be at least 10 seconds (pg-boss's minimum)")
      .max(300, "must be at most 300 seconds"),
  ),
  /** First retry delay of a failed job, doubled on each attempt (pg-boss retryBackoff). */
  JOB_RETRY_DELAY_SECONDS: integer(10).pipe(
    z.number().min(1, "must be at least 1 second").max(600, "must be at most 600 seconds"),
  ),
  /** Seconds between pg-boss's supervise, monitor and queue-cache passes. */
  JOB_SUPERVISE_INTERVAL_SECONDS: integer(10).pipe(
    z.number().min(1, "must be at least 1 second").max(60, "must be at most 60 seconds"),
  ),
  /** Seconds a weekly-metrics refresh waits, folding the requests of the pages written meanwhile. */
  WEEKLY_METRICS_DEBOUNCE_SECONDS: integer(3).pipe(z.number().max(60, "must be at most 60 seconds")),
  /** Seconds after which a dead process's GitHub slot of an installation is free again. */
  INSTALLATION_SLOT_LEASE_SECONDS: integer(30).pipe(
    z.number().min(3, "must be at least 3 seconds").max(300, "must be at most 300 seconds"),
  ),
});

export type Env = z.infer<typeof envSchema>;

/**
 * How long GitHub may take, per attempt (src/github/deadlines.ts applies them). Without them a
 * connection GitHub accepted and never answered held a backfill slice and an installation slot
 * until pg-boss expired the job.
 */
export interface GitHubDeadlines {
  /** TCP and TLS to GitHub. */
  connectMs: number;
  /** One REST attempt, from sending it to the last byte of the answer (connect included). */
  restMs: number;
  /** The same for one GraphQL query: a page of 100 pull requests takes longer to compute and send. */
  graphqlMs: number;
}

export interface GitHubAppCredentials {
  appId: string;
  privateKey: string;
  webhookSecret: string;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
}

export interface Config {
  env: Env;
  port: number;
  host: string;
  baseUrl: string;
  logLevel: Env["LOG_LEVEL"];
  databaseUrl: string | undefined;
  databasePoolSize: number;
  databaseApplicationName: string;
  embeddedPostgres: { dataDir: string; port: number };
  /** Undefined until the App is registered: the server then runs in setup mode. */
  app: GitHubAppCredentials | undefined;
  github: {
    /** Web host, e.g. https://github.com or https://ghe.example.com. */
    webUrl: string;
    /** REST base URL; GraphQL lives beside it (GitHub.com /graphql, GHES /api/graphql). */
    apiUrl: string;
    enterprise: boolean;
    org: string | undefined;
    /** How long one attempt may take; every request to GitHub has them. */
    deadlines: GitHubDeadlines;
    /** Least time between two GraphQL queries or REST writes of one installation. */
    writeIntervalMs: number;
  };
  webhookProxyUrl: string | undefined;
  webhookBodyLimit: number;
  rateLimitReservePercent: number;
  syncConcurrencyPerInstallation: number;
  backfillFirstWindowDays: number;
  /** Pull requests without labels a delta sync fetches again (MISSING_LABELS_PER_RUN); 0: off. */
  missingLabelsPerRun: number;
  webhookWorkerConcurrency: number;
  webhookBatchSize: number;
  sessionSecret: string;
  smtpUrl: string | undefined;
  notifyEmailFrom: string;
  notifyEmailTo: string[];
  envFile: string;
  /** Fastify's trustProxy: false, true, or the trusted proxies' addresses and CIDR ranges. */
  trustProxy: TrustProxy;
  /** Redelivery, retention, metrics access and rate limits; 0 turns a limit or job off. */
  operations: {
    redeliveryIntervalMinutes: number;
    redeliveryMaxPerRun: number;
    reconcileIntervalMinutes: number;
    payloadRetentionDays: number;
    uninstalledRetentionDays: number;
    metricsToken: string | undefined;
    invalidWebhookRateLimitPerMinute: number;
    uiRateLimitPerMinute: number;
  };
  jobs: JobTiming;
}

/**
 * How long the job machinery waits on its own account (README "Configuration"). Production keeps
 * the defaults; tests shorten them so that a crash, a retry or a debounce costs seconds, not minutes.
 */
export interface JobTiming {
  heartbeatSeconds: number;
  retryDelaySeconds: number;
  superviseIntervalSeconds: number;
  weeklyMetricsDebounceSeconds: number;
  slotLeaseSeconds: number;
}

export type TrustProxy = boolean | string;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Parses the environment once. Every problem is reported with the variable's name so start-up
 * fails with something a newcomer can act on. Nothing else in the app reads process.env.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  readFile: (path: string) => string = defaultReadFile,
): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const e = parsed.data;

  let privateKey = e.PRIVATE_KEY;
  if (!privateKey && e.PRIVATE_KEY_PATH) {
    try {
      privateKey = readFile(e.PRIVATE_KEY_PATH);
    } catch (error) {
      throw new ConfigError(
        `PRIVATE_KEY_PATH: cannot read ${e.PRIVATE_KEY_PATH} (${(error as Error).message})`,
      );
    }
  }
  if (privateKey) privateKey = normalisePrivateKey(privateKey);

  const credentials = [
    ["APP_ID", e.APP_ID],
    ["PRIVATE_KEY", privateKey],
    ["WEBHOOK_SECRET", e.WEBHOOK_SECRET],
  ] as const;
  const present = credentials.filter(([, value]) => value !== undefined);
  if (present.length > 0 && present.length < credentials.length) {
    const missing = credentials.filter(([, value]) => value === undefined).map(([name]) => name);
    throw new ConfigError(
      `Incomplete GitHub App credentials: ${missing.join(", ")} missing (set all of APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET, or none to run the setup flow)`,
    );
  }
  if (privateKey && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) {
    throw new ConfigError("PRIVATE_KEY: not a PEM private key (expected -----BEGIN ... PRIVATE KEY-----)");
  }

  const webUrl = e.GHE_HOST ? `${e.GHE_PROTOCOL}://${e.GHE_HOST}` : "https://github.com";
  const apiUrl = e.GHE_HOST ? `${webUrl}/api/v3` : "https://api.github.com";

  return {
    env: e,
    port: e.PORT,
    host: e.HOST,
    baseUrl: (e.BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ""),
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: Math.max(2, e.DATABASE_POOL_SIZE),
    databaseApplicationName: e.DATABASE_APPLICATION_NAME,
    embeddedPostgres: { dataDir: e.EMBEDDED_POSTGRES_DIR, port: e.EMBEDDED_POSTGRES_PORT },
    app:
      e.APP_ID && privateKey && e.WEBHOOK_SECRET
        ? {
            appId: e.APP_ID,
            privateKey,
            webhookSecret: e.WEBHOOK_SECRET,
            clientId: e.GITHUB_CLIENT_ID,
            clientSecret: e.GITHUB_CLIENT_SECRET,
          }
        : undefined,
    github: {
      webUrl,
      apiUrl,
      enterprise: Boolean(e.GHE_HOST),
      org: e.GH_ORG,
      deadlines: {
        connectMs: e.GITHUB_CONNECT_TIMEOUT_MS,
        restMs: e.GITHUB_REST_TIMEOUT_MS,
        graphqlMs: e.GITHUB_GRAPHQL_TIMEOUT_MS,
      },
      writeIntervalMs: e.GITHUB_WRITE_INTERVAL_MS,
    },
    webhookProxyUrl: e.WEBHOOK_PROXY_URL,
    webhookBodyLimit: e.WEBHOOK_BODY_LIMIT_BYTES,
    rateLimitReservePercent: Math.min(e.RATE_LIMIT_RESERVE_PERCENT, 90),
    syncConcurrencyPerInstallation: Math.max(1, e.SYNC_CONCURRENCY_PER_INSTALLATION),
    backfillFirstWindowDays: e.BACKFILL_FIRST_WINDOW_DAYS,
    missingLabelsPerRun: e.MISSING_LABELS_PER_RUN,
    webhookWorkerConcurrency: Math.max(1, e.WEBHOOK_WORKER_CONCURRENCY),
    // At most the deliveries a process-webhook job may name (src/queue/catalog.ts).
    webhookBatchSize: Math.min(100, Math.max(1, e.WEBHOOK_BATCH_SIZE)),
    sessionSecret: e.SESSION_SECRET ?? randomBytes(32).toString("hex"),
    smtpUrl: e.SMTP_URL,
    notifyEmailFrom: e.NOTIFY_EMAIL_FROM,
    notifyEmailTo: (e.NOTIFY_EMAIL_TO ?? "")
      .split(",")
      .map((address) => address.trim())
      .filter(Boolean),
    envFile: e.ENV_FILE,
    trustProxy: e.TRUST_PROXY,
    operations: {
      redeliveryIntervalMinutes: e.WEBHOOK_REDELIVERY_INTERVAL_MINUTES,
      redeliveryMaxPerRun: e.WEBHOOK_REDELIVERY_MAX_PER_RUN,
      reconcileIntervalMinutes: e.INSTALLATION_RECONCILE_INTERVAL_MINUTES,
      payloadRetentionDays: e.WEBHOOK_PAYLOAD_RETENTION_DAYS,
      uninstalledRetentionDays: e.UNINSTALLED_RETENTION_DAYS,
      metricsToken: e.METRICS_TOKEN,
      invalidWebhookRateLimitPerMinute: e.WEBHOOK_INVALID_RATE_LIMIT_PER_MINUTE,
      uiRateLimitPerMinute: e.UI_RATE_LIMIT_PER_MINUTE,
    },
    jobs: {
      heartbeatSeconds: e.JOB_HEARTBEAT_SECONDS,
      retryDelaySeconds: e.JOB_RETRY_DELAY_SECONDS,
      superviseIntervalSeconds: e.JOB_SUPERVISE_INTERVAL_SECONDS,
      weeklyMetricsDebounceSeconds: e.WEEKLY_METRICS_DEBOUNCE_SECONDS,
      slotLeaseSeconds: e.INSTALLATION_SLOT_LEASE_SECONDS,
    },
  };
}

/**
 * The configuration of this process: its environment, plus the env file (`ENV_FILE`, default
 * .env) for variables the environment does not set. With `override`, the file wins: after the
 * manifest flow wrote fresh credentials to it.
 */
export function loadConfigFromEnvironment(options: { override?: boolean } = {}): Config {
  dotenv.config({ path: process.env.ENV_FILE ?? ".env", quiet: true, override: options.override ?? false });
  return loadConfig(process.env);
}

/** Accepts a PEM with real newlines, escaped "\n" (one-line .env files) or base64-encoded. */
function normalisePrivateKey(value: string): string {
  const trimmed = value.trim().replace(/^"|"$/g, "");
  if (trimmed.includes("-----BEGIN")) return trimmed.replace(/\\n/g, "\n");
  const decoded = Buffer.from(trimmed, "base64").toString("utf8");
  return decoded.includes("-----BEGIN") ? decoded : trimmed;
}

/**
 * TRUST_PROXY: unset or "false" trusts no proxy, so no client can choose its own address or
 * protocol with X-Forwarded-* headers; "true" trusts every hop; a comma-separated list trusts the
 * proxies at those addresses (proxy-addr's names loopback, linklocal and uniquelocal included).
 * Hop counts are not offered: Fastify cannot check the peer with them and trusts nothing.
 * Undefined when the value is none of these.
 */
function parseTrustProxy(value: string | undefined): TrustProxy | undefined {
  const trimmed = value?.trim().toLowerCase();
  if (trimmed === undefined || trimmed === "" || trimmed === "false") return false;
  if (trimmed === "true") return true;
  const entries = trimmed.split(",").map((entry) => entry.trim());
  const named = new Set(["loopback", "linklocal", "uniquelocal"]);
  const valid = entries.every((entry) => {
    if (named.has(entry)) return true;
    const [address, bits, extra] = entry.split("/");
    if (extra !== undefined || !address || isIP(address) === 0) return false;
    const maxBits = isIP(address) === 4 ? 32 : 128;
    return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
  });
  return valid ? entries.join(",") : undefined;
}

function defaultReadFile(path: string): string {
  return readFileSync(path, "utf8");
}
