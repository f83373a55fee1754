import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ConfigError, loadConfig } from "../src/config.js";
import { resolveLogFormat } from "../src/logger.js";
import { createTestDatabase, type TestDatabase } from "./support/database.js";
import { waitFor } from "./support/wait.js";

// The operations settings (README "Configuration") and what `npm start` prints.

describe("operations settings", () => {
  it("default to a redelivery scan every 10 minutes, hourly reconciliation, 14 days of payloads, 30 days after uninstall", () => {
    expect(loadConfig({}).operations).toEqual({
      redeliveryIntervalMinutes: 10,
      redeliveryMaxPerRun: 100,
      reconcileIntervalMinutes: 60,
      payloadRetentionDays: 14,
      uninstalledRetentionDays: 30,
      metricsToken: undefined,
      invalidWebhookRateLimitPerMinute: 30,
      uiRateLimitPerMinute: 300,
    });
  });

  it.each([
    ["WEBHOOK_REDELIVERY_INTERVAL_MINUTES", "90", "must be at most 60 minutes"],
    ["WEBHOOK_REDELIVERY_MAX_PER_RUN", "-1", "must be a non-negative integer"],
    ["INSTALLATION_RECONCILE_INTERVAL_MINUTES", "120", "must be at most 60 minutes"],
    ["WEBHOOK_PAYLOAD_RETENTION_DAYS", "two weeks", "must be a non-negative integer"],
    ["UNINSTALLED_RETENTION_DAYS", "1.5", "must be a non-negative integer"],
    ["METRICS_TOKEN", "short", "must be at least 16 characters"],
    ["WEBHOOK_INVALID_RATE_LIMIT_PER_MINUTE", "-5", "must be a non-negative integer"],
    ["UI_RATE_LIMIT_PER_MINUTE", "1e3x", "must be a non-negative integer"],
  ])("%s=%s is refused with a message that names it", (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(`${name}: ${message}`);
  });
});

describe("labels read again per delta sync", () => {
  it.each([
    [{}, 2000],
    [{ MISSING_LABELS_PER_RUN: "0" }, 0],
    [{ MISSING_LABELS_PER_RUN: "5000" }, 5000],
  ])("%j gives %d", (env, expected) => {
    expect(loadConfig(env).missingLabelsPerRun).toBe(expected);
  });

  it.each([
    ["6000", "must be at most 5000"],
    ["-1", "must be a non-negative integer"],
  ])("MISSING_LABELS_PER_RUN=%s is refused with a message that names it", (value, message) => {
    expect(() => loadConfig({ MISSING_LABELS_PER_RUN: value })).toThrow(`MISSING_LABELS_PER_RUN: ${message}`);
  });
});

describe("log format", () => {
  const cases: ["json" | "pretty" | undefined, boolean, "json" | "pretty"][] = [
    [undefined, true, "pretty"],
    [undefined, false, "json"],
    ["json", true, "json"],
    ["pretty", false, "pretty"],
  ];
  it.each(cases)("LOG_FORMAT=%s with a terminal: %s gives %s", (format, terminal, expected) => {
    const config = loadConfig(format ? { LOG_FORMAT: format } : {});
    expect(resolveLogFormat(config, terminal)).toBe(expected);
  });
});

describe("npm start's output", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  /** Starts the entry point (setup mode: no App credentials), requests a page, stops it; its stdout. */
  async function output(env: Record<string, string>): Promise<string> {
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: {
        ...process.env,
        DATABASE_URL: database.url,
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        ENV_FILE: "/nonexistent/.env",
        ...env,
      },
      stdio: ["ignore", "pipe", "ignore"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok,
        {
          timeoutMs: 60_000,
          what: "the app to listen",
        },
      );
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
    return stdout;
  }

  it("is one JSON object a line when stdout is not a terminal, requests included", async () => {
    const lines = (await output({})).trim().split("\n");
    expect(lines.every((line) => line.startsWith("{"))).toBe(true);
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(
      expect.arrayContaining(["pr pulse listening", "incoming request", "request completed"]),
    );
  }, 90_000);

  it("is readable text with LOG_FORMAT=pretty, without a line per request", async () => {
    const text = await output({ LOG_FORMAT: "pretty" });
    expect(text).toMatch(/INFO.*pr pulse listening/);
    expect(text.split("\n").some((line) => line.startsWith("{"))).toBe(false);
    expect(text).not.toMatch(/incoming request|request completed/);
  }, 90_000);
});
