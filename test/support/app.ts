import type { AddressInfo } from "node:net";
import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { PgBoss } from "pg-boss";
import pino from "pino";
import type { Probot } from "probot";
import { loadConfig, type Config } from "../../src/config.js";
import { createApp } from "../../src/github/app.js";
import { createGitHubClientFactory } from "../../src/github/installation-client.js";
import { createProbot } from "../../src/github/probot.js";
import { startBoss } from "../../src/jobs/boss.js";
import { startWorkers } from "../../src/jobs/worker.js";
import { buildServer, WEBHOOK_PATH } from "../../src/server.js";
import type { TestDatabase } from "./database.js";

export const WEBHOOK_SECRET = "test-webhook-secret";
export const APP_ID = "4242";

let privateKey: string | undefined;
/** One RSA key per test process: Probot signs real App JWTs with it. */
export function testPrivateKey(): string {
  privateKey ??= generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
    type: "pkcs1",
    format: "pem",
  }) as string;
  return privateKey;
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    APP_ID,
    PRIVATE_KEY: testPrivateKey(),
    WEBHOOK_SECRET,
    LOG_LEVEL: "silent",
    PORT: "0",
    HOST: "127.0.0.1",
    ...env,
  });
}

export interface TestApp {
  url: string;
  config: Config;
  boss: PgBoss;
  probot: Probot;
  server: FastifyInstance;
  /** POSTs a delivery the way GitHub does: exact bytes, HMAC signature over them. */
  deliver(
    name: string,
    payload: unknown,
    options?: { id?: string; signature?: string | null; body?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: unknown; id: string }>;
  /** Resolves once no job of these queues is queued or running (deferred jobs do not count). */
  drain(queues?: string[], timeoutMs?: number): Promise<void>;
  /** Jobs sent to a queue, oldest first. */
  jobs(queue: string): Promise<{ data: Record<string, unknown>; state: string }[]>;
  stop(): Promise<void>;
}

export function sign(body: string, secret = WEBHOOK_SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export async function startTestApp(
  database: TestDatabase,
  options: { env?: Record<string, string>; handlers?: Parameters<typeof startWorkers>[2] } = {},
): Promise<TestApp> {
  const config = testConfig(options.env);
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const boss = await startBoss(database.url, log);
  const probot = createProbot(config, config.app!, log);
  await probot.load(createApp({ database, boss, log }));
  const deps = {
    config,
    database,
    boss,
    probot,
    github: createGitHubClientFactory(probot),
    log,
    now: () => new Date(),
  };
  await startWorkers(boss, deps, options.handlers);
  const server = await buildServer({ config, database, log, probot, boss });
  await server.listen({ port: 0, host: "127.0.0.1" });
  const url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;

  return {
    url,
    config,
    boss,
    probot,
    server,
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
      const response = await fetch(`${url}${WEBHOOK_PATH}`, { method: "POST", headers, body });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // keep text
      }
      return { status: response.status, body: parsed, id };
    },
    async drain(queues, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const [row] = await database.sql<{ pending: number }[]>`
          select count(*)::int as pending from pgboss.job
          where state in ('created', 'retry', 'active') and start_after <= now()
            and (${queues ?? null}::text[] is null or name = any(${queues ?? null}::text[]))`;
        if (row!.pending === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error("jobs did not drain in time");
    },
    async jobs(queue) {
      return database.sql<{ data: Record<string, unknown>; state: string }[]>`
        select data, state from pgboss.job where name = ${queue} order by created_on`;
    },
    async stop() {
      await server.close();
      await boss.stop({ graceful: false, timeout: 2000 });
    },
  };
}
