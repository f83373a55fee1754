import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { PgBoss } from "pg-boss";
import pino from "pino";
import { ConfigError, loadConfig } from "../../src/config.js";
import { enqueue, startBoss } from "../../src/queue/boss.js";
import { catalog } from "../../src/queue/catalog.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

// The job timing and GitHub pacing (README "Configuration"): production defaults, bounds, and
// pg-boss's queues and jobs following what is configured.

describe("job timing settings", () => {
  it("default to production's timing", () => {
    const config = loadConfig({});
    expect(config.jobs).toEqual({
      heartbeatSeconds: 30,
      retryDelaySeconds: 10,
      superviseIntervalSeconds: 10,
      weeklyMetricsDebounceSeconds: 3,
      slotLeaseSeconds: 30,
    });
    expect(config.github.writeIntervalMs).toBe(1000);
  });

  it.each([
    ["JOB_HEARTBEAT_SECONDS", "5", "must be at least 10 seconds"],
    ["JOB_RETRY_DELAY_SECONDS", "0", "must be at least 1 second"],
    ["JOB_SUPERVISE_INTERVAL_SECONDS", "120", "must be at most 60 seconds"],
    ["WEEKLY_METRICS_DEBOUNCE_SECONDS", "soon", "must be a non-negative integer"],
    ["INSTALLATION_SLOT_LEASE_SECONDS", "1", "must be at least 3 seconds"],
    ["GITHUB_WRITE_INTERVAL_MS", "60000", "must be at most 10000 ms"],
  ])("%s=%s is refused with a message that names it", (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(`${name}: ${message}`);
  });
});

describe("pg-boss with a configured timing", () => {
  let database: TestDatabase;
  let boss: PgBoss;
  beforeAll(async () => {
    database = await createTestDatabase();
    const timing = loadConfig({
      JOB_HEARTBEAT_SECONDS: "12",
      JOB_RETRY_DELAY_SECONDS: "2",
      WEEKLY_METRICS_DEBOUNCE_SECONDS: "7",
    }).jobs;
    boss = await startBoss(database.url, pino({ level: "silent" }), timing);
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false });
    await database?.drop();
  });

  it("gives the queues its heartbeat and retry delay, and keeps a queue's own delay", async () => {
    expect(await boss.getQueue("backfill")).toMatchObject({ heartbeatSeconds: 12, retryDelay: 2 });
    expect(await boss.getQueue("weekly-metrics")).toMatchObject({ retryDelay: 2 });
    expect(await boss.getQueue("redeliver-webhooks")).toMatchObject({ heartbeatSeconds: 12, retryDelay: 30 });
  });

  it("watches every queue's running jobs, so a dead process's job is retried within a heartbeat", async () => {
    for (const { name } of Object.values(catalog)) {
      expect({ name, heartbeatSeconds: (await boss.getQueue(name))?.heartbeatSeconds }).toEqual({
        name,
        heartbeatSeconds: 12,
      });
    }
  });

  it("debounces a weekly refresh by the configured seconds", async () => {
    await enqueue(boss, "refreshWeeklyMetrics", { installationId: 1 });
    const [job] = await database.sql<{ wait: number }[]>`
      select extract(epoch from start_after - created_on)::float as wait
      from pgboss.job where name = 'weekly-metrics'`;
    expect(job!.wait).toBeCloseTo(7, 0);
  });
});
