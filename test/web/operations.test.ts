import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { describe, expect, it } from "@jest/globals";
import { WEBHOOK_PATH } from "../../src/server.js";
import { metricsAccess } from "../../src/web/routes/prometheus.js";
import { sign, startTestApp, type TestApp } from "../support/app.js";
import { retryOnDeadlock } from "../support/database.js";
import { useTestApp } from "../support/harness.js";
import { webhookExample } from "../support/webhook-examples.js";

// What operators look at: health and readiness, Prometheus metrics (private unless allowed), and
// rate limits that stop floods which are not GitHub without ever throttling GitHub itself.

const t = useTestApp({ queues: ["processWebhook"] });

interface Request {
  method: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A real HTTP request to the app, from a chosen loopback address (127.0.0.2, 127.0.0.3…): distinct
 * clients as the server sees them, whatever its trust-proxy setting.
 */
async function send(app: TestApp, request: Request, from = "127.0.0.1") {
  const url = new URL(request.path, app.url);
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>(
    (resolve, reject) => {
      const outgoing = httpRequest(
        url,
        { method: request.method, headers: request.headers, localAddress: from, agent: false },
        (response) => {
          let body = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (body += chunk));
          response.on("end", () =>
            resolve({ status: response.statusCode ?? 0, body, headers: response.headers }),
          );
        },
      );
      outgoing.on("error", reject);
      outgoing.end(request.body);
    },
  );
}

async function statuses(app: TestApp, requests: Request[], from: string) {
  const codes: number[] = [];
  for (const request of requests) codes.push((await send(app, request, from)).status);
  return codes;
}

async function metricsText(app: TestApp) {
  const response = await send(app, { method: "GET", path: "/metrics" });
  expect(response.status).toBe(200);
  return response.body;
}

/** The value of one series in the exposition text, 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

function signedDelivery(event = "pull_request", action = "opened"): Request {
  const body = JSON.stringify(webhookExample(event, action));
  return {
    method: "POST",
    path: WEBHOOK_PATH,
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": event,
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": sign(body),
      "user-agent": "GitHub-Hookshot/0b1d2a3",
    },
  };
}

function badlySigned(event = "pull_request"): Request {
  const delivery = signedDelivery();
  return {
    ...delivery,
    headers: {
      ...delivery.headers,
      "x-github-event": event,
      "x-hub-signature-256": sign("another body"),
      "user-agent": "curl/8.5.0",
    },
  };
}

const TOKEN = "s3cret-token-0123456";

const get = (path: string, headers: Record<string, string> = {}): Request => ({
  method: "GET",
  path,
  headers,
});

describe("health", () => {
  it("answers /healthz, and /readyz with the database and the queue checked", async () => {
    expect(JSON.parse((await send(t.app, get("/healthz"))).body)).toEqual({ status: "ok" });
    const ready = await send(t.app, get("/readyz"));
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: "ready", checks: { database: "ok", queue: "ok" } });
  });
});

describe("static files", () => {
  it.each([
    ["/assets/app.css", "text/css"],
    ["/assets/app.js", "text/javascript"],
    ["/assets/htmx.min.js", "text/javascript"],
    ["/favicon.svg", "image/svg+xml"],
    ["/favicon.ico", "image/x-icon"],
  ])("serves %s as %s", async (path, type) => {
    const response = await send(t.app, get(path));
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toContain(type);
    expect(response.body.length).toBeGreaterThan(0);
  });
});

describe("/metrics", () => {
  it("counts deliveries by event and outcome, their processing, and the queues", async () => {
    const before = await metricsText(t.app);
    const accepted = 'prpulse_webhook_deliveries_total{event="pull_request",outcome="accepted"}';
    const unauthorized = 'prpulse_webhook_deliveries_total{event="pull_request",outcome="unauthorized"}';
    const processed = 'prpulse_webhook_processed_total{event="pull_request",outcome="processed"}';

    const delivery = signedDelivery();
    expect((await send(t.app, delivery)).status).toBe(202);
    expect((await send(t.app, delivery)).status).toBe(202);
    expect((await send(t.app, badlySigned())).status).toBe(401);
    await t.app.drain(["process-webhook"]);

    const after = await metricsText(t.app);
    expect(sample(after, accepted) - sample(before, accepted)).toBe(1);
    expect(sample(after, accepted.replace("accepted", "duplicate"))).toBeGreaterThanOrEqual(1);
    expect(sample(after, unauthorized) - sample(before, unauthorized)).toBe(1);
    expect(sample(after, processed) - sample(before, processed)).toBe(1);
    expect(after).toMatch(/^prpulse_webhook_ack_seconds_count\{outcome="accepted"\} \d+/m);
    expect(after).toMatch(/^prpulse_webhook_processing_seconds_count\{event="pull_request"\} \d+/m);
    expect(after).toMatch(
      /^prpulse_job_duration_seconds_count\{queue="process-webhook",outcome="completed"\} \d+/m,
    );
    expect(after).toMatch(/^prpulse_queue_jobs\{queue="process-webhook",state="ready"\} \d+/m);
    expect(after).toMatch(/^prpulse_queue_failed_jobs\{queue="backfill"\} \d+/m);
    expect(after).toMatch(/^prpulse_process_cpu_seconds_total \d/m);
  });

  it("labels events the App does not handle as other, whatever a sender writes in the header", async () => {
    // A name shaped like GitHub's gets as far as the signature; any other is refused before it.
    const wellFormed = `made_up_${randomUUID().replaceAll("-", "")}`;
    expect((await send(t.app, badlySigned(wellFormed))).status).toBe(401);
    expect((await send(t.app, badlySigned(`made-up-${randomUUID()}`))).status).toBe(400);
    const text = await metricsText(t.app);
    expect(text).not.toMatch(/made[-_]up/);
    expect(
      sample(text, 'prpulse_webhook_deliveries_total{event="other",outcome="unauthorized"}'),
    ).toBeGreaterThan(0);
  });

  const LOCAL = { baseUrl: "http://localhost:3000", trustProxy: false } as const;
  const PUBLIC = { baseUrl: "https://pulse.example.com", trustProxy: false } as const;
  it.each<[string, string, string, Record<string, string>, Parameters<typeof metricsAccess>[1]]>([
    ["a local request", "allowed", "127.0.0.1", {}, { ...LOCAL, token: undefined }],
    ["a local IPv6 request", "allowed", "::1", {}, { ...LOCAL, token: undefined }],
    ["an IPv4-mapped local request", "allowed", "::ffff:127.0.0.1", {}, { ...LOCAL, token: undefined }],
    ["a remote request", "forbidden", "203.0.113.7", {}, { ...LOCAL, token: undefined }],
    [
      "a request a local proxy forwarded",
      "forbidden",
      "127.0.0.1",
      { "x-forwarded-for": "203.0.113.7" },
      { ...LOCAL, token: undefined },
    ],
    [
      "a local request to a public BASE_URL (a same-host proxy that adds no header)",
      "forbidden",
      "127.0.0.1",
      {},
      { ...PUBLIC, token: undefined },
    ],
    [
      "a local request while a proxy is trusted",
      "forbidden",
      "127.0.0.1",
      {},
      { ...LOCAL, trustProxy: "loopback", token: undefined },
    ],
    [
      "a remote request with the token",
      "allowed",
      "203.0.113.7",
      { authorization: `Bearer ${TOKEN}` },
      { ...PUBLIC, token: TOKEN },
    ],
    [
      "a request with another token",
      "unauthorized",
      "127.0.0.1",
      { authorization: `Bearer ${TOKEN}x` },
      { ...LOCAL, token: TOKEN },
    ],
    ["a local request without the token", "unauthorized", "127.0.0.1", {}, { ...LOCAL, token: TOKEN }],
  ])("access to /metrics: %s is %s", (_name, expected, peer, headers, settings) => {
    expect(metricsAccess({ headers, socket: { remoteAddress: peer } } as never, settings)).toBe(expected);
  });

  it("without METRICS_TOKEN, refuses a local request when BASE_URL is public: a same-host proxy may add no header", async () => {
    const app = await startTestApp(t.database, {
      queues: [],
      env: { BASE_URL: "https://pulse.example.com" },
    });
    try {
      const response = await send(app, get("/metrics"));
      expect(response.status).toBe(403);
      expect(response.body).toContain("METRICS_TOKEN");
    } finally {
      await app.stop();
    }
  });

  it("without METRICS_TOKEN, refuses a request a proxy forwarded", async () => {
    expect((await send(t.app, get("/metrics", { "x-forwarded-for": "203.0.113.7" }))).status).toBe(403);
    expect((await send(t.app, get("/metrics"))).status).toBe(200);
  });

  it("with METRICS_TOKEN, serves whoever sends it as a bearer token, and nobody else", async () => {
    const token = "scrape-me-if-you-can-0123456789";
    const app = await startTestApp(t.database, { queues: [], env: { METRICS_TOKEN: token } });
    try {
      expect((await send(app, get("/metrics"))).status).toBe(401);
      expect(
        (await send(app, get("/metrics", { authorization: "Bearer wrong-token-wrong-token-00" }))).status,
      ).toBe(401);
      const allowed = await send(app, get("/metrics", { authorization: `Bearer ${token}` }));
      expect(allowed.status).toBe(200);
      expect(allowed.headers["content-type"]).toMatch(/^text\/plain/);
    } finally {
      await app.stop();
    }
  });
});

describe("rate limits", () => {
  it("refuse an IP after a few refused requests, never count new deliveries, and never refuse a correctly signed delivery", async () => {
    const app = await startTestApp(t.database, {
      queues: [],
      env: { WEBHOOK_INVALID_RATE_LIMIT_PER_MINUTE: "3", UI_RATE_LIMIT_PER_MINUTE: "4" },
    });
    try {
      // A flood of wrong signatures: three answered, then refused before the body is read.
      const flood = [1, 2, 3, 4, 5].map(() => badlySigned());
      expect(await statuses(app, flood, "127.0.0.2")).toEqual([401, 401, 401, 429, 429]);
      // GitHub's own deliveries from that address (one proxy for everyone, say) still get in.
      expect(await statuses(app, [signedDelivery(), badlySigned()], "127.0.0.2")).toEqual([202, 429]);
      // New deliveries never count, however many: far more than the allowance.
      const valid = Array.from({ length: 20 }, () => signedDelivery());
      expect(await statuses(app, valid, "127.0.0.3")).toEqual(valid.map(() => 202));
      // A replayed delivery is acknowledged, and counts: the address is then refused to others.
      const replays = Array.from({ length: 5 }, () => valid[0]!);
      expect(await statuses(app, replays, "127.0.0.3")).toEqual([202, 202, 202, 202, 202]);
      expect(await statuses(app, [badlySigned()], "127.0.0.3")).toEqual([429]);
      // Wrong signatures that pose as GitHub spend the address's allowance too, but each is read
      // and refused for its signature, never with 429, and the next real delivery still gets in.
      const posing = [1, 2, 3, 4, 5, 6, 7].map(() => ({
        ...badlySigned(),
        headers: { ...badlySigned().headers, "user-agent": "GitHub-Hookshot/0b1d2a3" },
      }));
      expect(await statuses(app, posing, "127.0.0.6")).toEqual(posing.map(() => 401));
      expect(await statuses(app, [signedDelivery(), badlySigned()], "127.0.0.6")).toEqual([202, 429]);

      // The settings UI has its own allowance; health checks have none.
      const pages = [1, 2, 3, 4, 5].map(() => get("/"));
      expect(await statuses(app, pages, "127.0.0.4")).toEqual([200, 200, 200, 200, 429]);
      const probes = [1, 2, 3, 4, 5, 6].map(() => get("/healthz"));
      expect(await statuses(app, probes, "127.0.0.4")).toEqual([200, 200, 200, 200, 200, 200]);
    } finally {
      await app.stop();
    }
  });

  it("do not hold our own failures against the sender", async () => {
    const app = await startTestApp(t.database, {
      queues: [],
      env: { WEBHOOK_INVALID_RATE_LIMIT_PER_MINUTE: "2" },
    });
    try {
      // The deliveries table out of reach: intake fails, which is the app's fault, not GitHub's.
      // The file's app may be writing deliveries still: the rename waits for it, and is tried again
      // if Postgres picks it as a deadlock's victim.
      await t.app.drain();
      await retryOnDeadlock(
        () => t.database.sql`alter table webhook_deliveries rename to webhook_deliveries_away`,
      );
      try {
        const failing = await statuses(
          app,
          [1, 2, 3, 4].map(() => signedDelivery()),
          "127.0.0.7",
        );
        expect(failing.every((status) => status >= 500)).toBe(true);
      } finally {
        await retryOnDeadlock(
          () => t.database.sql`alter table webhook_deliveries_away rename to webhook_deliveries`,
        );
      }
      // Once it is back, deliveries go straight in, and the failures used up no allowance: a wrong
      // signature is still answered for what it is.
      expect(await statuses(app, [signedDelivery(), signedDelivery()], "127.0.0.7")).toEqual([202, 202]);
      expect(await statuses(app, [badlySigned()], "127.0.0.7")).toEqual([401]);
    } finally {
      await app.stop();
    }
  });

  it("at the defaults, a burst of a thousand new deliveries from one address is never throttled", async () => {
    const burst = Array.from({ length: 1000 }, () => signedDelivery("ping", "ping"));
    const codes = await statuses(t.app, burst, "127.0.0.5");
    expect(new Set(codes)).toEqual(new Set([202]));
  }, 120_000);
});
