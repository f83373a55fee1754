import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { PgBoss } from "pg-boss";
import pino, { type Logger } from "pino";
import type { JobDeps } from "../../src/jobs/handlers/deps.js";
import { processWebhooks } from "../../src/jobs/handlers/process-webhook.js";
import { loadConfig, type Config } from "../../src/config.js";
import type { Database } from "../../src/db/client.js";
import { startRuntime, type Runtime, type RuntimeOptions } from "../../src/runtime.js";
import { WEBHOOK_PATH } from "../../src/server.js";
import type { TestDatabase } from "./database.js";
import { waitFor } from "./wait.js";

export const WEBHOOK_SECRET = "test-webhook-secret";
export const APP_ID = "4242";

let privateKey: string | undefined;
/**
 * The App's RSA key: Probot signs real App JWTs with it. test/global-setup.js makes one for the
 * whole run (a key costs about 0.1 s of CPU, and jest evaluates this module again for every file).
 */
export function testPrivateKey(): string {
  privateKey ??=
    process.env.TEST_PRIVATE_KEY ??
    (generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      type: "pkcs1",
      format: "pem",
    }) as string);
  return privateKey;
}

/**
 * GitHub in tests is nock or the fake, on this machine: GraphQL queries of one installation follow
 * each other at once instead of a second apart (GITHUB_WRITE_INTERVAL_MS), still one at a time.
 */
export const QUICK_GITHUB: Record<string, string> = { GITHUB_WRITE_INTERVAL_MS: "0" };

/**
 * Job timing for files that wait on the job machinery to settle (src/config.ts JobTiming): the
 * weekly refresh starts at once instead of 3 s after a page, and pg-boss looks at its queues every
 * second, so a stately job queued behind a running one is not held for 10 s. Not the default: a
 * few tests look at a debounced job before it runs.
 */
export const QUICK_JOBS: Record<string, string> = {
  WEEKLY_METRICS_DEBOUNCE_SECONDS: "0",
  JOB_SUPERVISE_INTERVAL_SECONDS: "1",
};

/**
 * Job timing for files that kill a process or fail jobs on purpose: a dead process's jobs and
 * GitHub slots are free again after 20 s instead of 30 s (10 s, pg-boss's shortest, timed out live jobs on a loaded runner), and a
 * failed job is retried after 1 s, 2 s, 4 s… instead of 10 s, 20 s, 40 s….
 */
export const QUICK_RECOVERY: Record<string, string> = {
  // The weekly refresh's production debounce is kept (these files were tuned with it).
  JOB_SUPERVISE_INTERVAL_SECONDS: "1",
  JOB_HEARTBEAT_SECONDS: "20",
  INSTALLATION_SLOT_LEASE_SECONDS: "20",
  JOB_RETRY_DELAY_SECONDS: "1",
};

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    APP_ID,
    PRIVATE_KEY: testPrivateKey(),
    WEBHOOK_SECRET,
    LOG_LEVEL: "silent",
    PORT: "0",
    HOST: "127.0.0.1",
    // No redelivery scans against GitHub unless a test asks for them (test/webhooks/recovery.test.ts).
    WEBHOOK_REDELIVERY_INTERVAL_MINUTES: "0",
    INSTALLATION_RECONCILE_INTERVAL_MINUTES: "0",
    ...QUICK_GITHUB,
    ...env,
  });
}

/** The app as production wires it (src/runtime.ts), with helpers to drive and watch it. */
export interface TestApp {
  runtime: Runtime;
  url: string;
  config: Config;
  /** The runtime's pg-boss and server (the test app always has credentials). */
  readonly boss: PgBoss;
  readonly server: FastifyInstance;
  /** POSTs a delivery the way GitHub does: exact bytes, HMAC signature over them. */
  deliver(
    name: string,
    payload: unknown,
    options?: {
      id?: string;
      signature?: string | null;
      body?: string | Buffer;
      headers?: Record<string, string>;
    },
  ): Promise<{ status: number; body: unknown; id: string }>;
  /**
   * Resolves once no job of these queues is queued or running. Jobs deferred by more than a few
   * seconds (rate-limit pauses, retries with backoff) do not count; debounced ones do.
   */
  drain(queues?: string[], timeoutMs?: number): Promise<void>;
  /** Jobs sent to a queue, oldest first. */
  jobs(queue: string): Promise<{ data: Record<string, unknown>; state: string }[]>;
  stop(): Promise<void>;
}

/** For drainJobs: wait for retries too, whatever their backoff (pg-boss's is minutes at most). */
export const RETRIES_INCLUDED = 3600;

/**
 * Resolves once no job of these queues (all by default) is queued or running. Jobs deferred by more
 * than `deferredSeconds` (rate-limit pauses, retries with backoff) do not count; debounced ones do.
 */
export async function drainJobs(
  database: Pick<Database, "sql">,
  queues?: string[],
  timeoutMs = 20_000,
  deferredSeconds = 5,
): Promise<void> {
  const pending = () => database.sql<{ name: string; state: string; jobs: number }[]>`
    select name, state, count(*)::int as jobs from pgboss.job
    where state in ('created', 'retry', 'active')
      and start_after <= now() + make_interval(secs => ${deferredSeconds})
      and (${queues ?? null}::text[] is null or name = any(${queues ?? null}::text[]))
    group by name, state`;
  try {
    await waitFor(async () => (await pending()).length === 0, {
      timeoutMs,
      what: `jobs of ${queues?.join(", ") ?? "every queue"} to drain`,
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}; still pending: ${JSON.stringify(await pending())}`, {
      cause: error,
    });
  }
}

export function sign(body: string | Buffer, secret = WEBHOOK_SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export type TestAppOptions = Omit<RuntimeOptions, "config" | "log"> & {
  env?: Record<string, string>;
  /** Silent by default (TEST_LOG_LEVEL shows it); tests of the logs pass a captured one. */
  log?: Logger;
};

export async function startTestApp(database: TestDatabase, options: TestAppOptions = {}): Promise<TestApp> {
  const { env, log: givenLog, ...runtimeOptions } = options;
  const config = testConfig({ DATABASE_URL: database.url, ...env });
  const log = givenLog ?? pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const runtime = await startRuntime({ ...runtimeOptions, config, log });

  return {
    runtime,
    url: runtime.url,
    config,
    get boss() {
      return runtime.boss!;
    },
    get server() {
      return runtime.server;
    },
    async deliver(name, payload, deliverOptions = {}) {
      const id = deliverOptions.id ?? randomUUID();
      const body = deliverOptions.body ?? JSON.stringify(payload);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-github-event": name,
        "x-github-delivery": id,
        "user-agent": "GitHub-Hookshot/test",
        ...deliverOptions.headers,
      };
      const signature = deliverOptions.signature === undefined ? sign(body) : deliverOptions.signature;
      if (signature !== null) headers["x-hub-signature-256"] = signature;
      const response = await fetch(`${runtime.url}${WEBHOOK_PATH}`, { method: "POST", headers, body });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // keep text
      }
      return { status: response.status, body: parsed, id };
    },
    drain: (queues, timeoutMs) => drainJobs(database, queues, timeoutMs),
    async jobs(queue) {
      return database.sql<{ data: Record<string, unknown>; state: string }[]>`
        select data, state from pgboss.job where name = ${queue} order by created_on`;
    },
    stop: () => runtime.stop(),
  };
}

/**
 * The webhook worker's batch handler on the test app's own parts, for tests that run a batch of
 * stored deliveries themselves. Only what it reads: the GitHub client factories are for sync jobs.
 */
export function webhookBatchHandler(app: TestApp) {
  const deps = {
    config: app.config,
    database: app.runtime.database,
    boss: app.boss,
    probot: app.runtime.probot,
    log: pino({ level: "silent" }),
    now: () => new Date(),
  } as unknown as JobDeps;
  return processWebhooks(deps).batch;
}
