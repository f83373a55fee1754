/**
 * The load generator of `npm run bench:webhooks`, in a process of its own (so its CPU is not the
 * app's event loop): signed deliveries, each with a fresh GUID, cycling through the bodies it was
 * given. Reads its job as JSON from stdin, prints its result as JSON on stdout.
 *
 * Two ways to send:
 * - closed loop (`rate` 0): autocannon, each connection posting its next delivery as soon as the
 *   last is answered: the most the app acknowledges.
 * - open loop (`rate` > 0): deliveries sent at their own times, whether or not the app has
 *   answered those before, as GitHub sends them (independent events, not a client waiting on the
 *   app). The times are a Poisson process at `rate` (or evenly spaced, `arrivals: "even"`), from a
 *   seeded generator so every run offers the same load. Latency counts from a delivery's due time,
 *   not from when a free connection sent it: an app that stalls is charged for every delivery it
 *   held up (no coordinated omission).
 *
 * Not autocannon for the open loop: its `overallRate` gives each connection a share of each
 * second, sent one request after another when the second starts, all connections on the same
 * timer. At 1,000/s from 200 connections, every second began with 1,000 deliveries in flight at
 * once and ended idle, which is not how deliveries arrive (bench/RESULTS.md).
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import autocannon from "autocannon";
import { Pool } from "undici";
import { mulberry32 } from "../test/support/fake-github/seed.js";

export interface LoadJob {
  url: string;
  /** Pre-serialised bodies with their signature and event name. */
  deliveries: { event: string; body: string; signature: string }[];
  connections: number;
  /** Total deliveries to send. */
  amount: number;
  /** Deliveries per second across all connections; 0 sends as fast as the server answers. */
  rate: number;
  /** The open loop's arrival times: a Poisson process (the default) or evenly spaced. */
  arrivals?: "poisson" | "even";
  /** The open loop's first seconds, reported apart (see LoadResult.steady). */
  warmUpS?: number;
  /** Upper bound on the run, whatever happens. */
  maxSeconds: number;
}

export interface LoadResult {
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  requestsPerSecond: number;
  latencyMs: Percentiles;
  /**
   * Open loop: the latency of the deliveries due after the first `warmUpS` seconds, while the
   * generator opened its connections (up to `connections` of them, each a new socket the app
   * accepts) and the app took on the rate from idle.
   */
  steady?: { warmUpS: number; latencyMs: Percentiles };
  /** CPU time the load generator itself used. */
  cpuMs: number;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

async function readJob(): Promise<LoadJob> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as LoadJob;
}

const job = await readJob();
// The bound holds whatever happens: autocannon counts answers, and a connection that timed out
// and reconnected could leave it short of `amount` for ever.
setTimeout(() => {
  console.error(`load generator: still running after ${job.maxSeconds} s; stopped`);
  process.exit(1);
}, job.maxSeconds * 1000).unref();
const cpuAtStart = process.cpuUsage();
const summary = job.rate > 0 ? await openLoop(job) : await closedLoop(job);
// Exits once the answer is out: a socket the pool still holds must not keep the process alive.
process.stdout.write(JSON.stringify({ ...summary, cpuMs: cpuMs(process.cpuUsage(cpuAtStart)) }), () =>
  process.exit(0),
);

function headers(delivery: LoadJob["deliveries"][number]): Record<string, string> {
  return {
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/bench",
    "x-github-event": delivery.event,
    "x-github-delivery": randomUUID(),
    "x-hub-signature-256": delivery.signature,
  };
}

async function closedLoop(job: LoadJob): Promise<Omit<LoadResult, "cpuMs">> {
  let next = 0;
  const result = await autocannon({
    url: job.url,
    connections: job.connections,
    amount: job.amount,
    timeout: 10,
    // Stops the run if the app stops answering; autocannon's own `duration` is ignored with `amount`.
    maxOverallRequests: job.amount,
    requests: [
      {
        method: "POST",
        setupRequest: (request: Record<string, unknown>) => {
          const delivery = job.deliveries[next++ % job.deliveries.length]!;
          request.body = delivery.body;
          request.headers = headers(delivery);
          return request;
        },
      },
    ],
  });
  return {
    sent: result.requests.sent,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    requestsPerSecond: result.requests.average,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
  };
}

/** Delivery `index`'s due time, in ms from the start. */
function arrivalTimes(job: LoadJob): Float64Array {
  const times = new Float64Array(job.amount);
  const random = mulberry32(0x5eed);
  let at = 0;
  for (let index = 0; index < job.amount; index++) {
    times[index] = at;
    at += job.arrivals === "even" ? 1000 / job.rate : (-Math.log(1 - random()) * 1000) / job.rate;
  }
  return times;
}

async function openLoop(job: LoadJob): Promise<Omit<LoadResult, "cpuMs">> {
  const url = new URL(job.url);
  const pool = new Pool(url.origin, {
    connections: job.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
  });
  const due = arrivalTimes(job);
  const latencies: number[] = [];
  const steadyLatencies: number[] = [];
  const warmUpMs = (job.warmUpS ?? 0) * 1000;
  const counts = { sent: 0, ok: 0, non2xx: 0, errors: 0, timeouts: 0 };
  const deadline = performance.now() + job.maxSeconds * 1000;
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  const send = (index: number, dueAt: number) => {
    const delivery = job.deliveries[index % job.deliveries.length]!;
    counts.sent++;
    const request = pool
      .request({
        path: url.pathname,
        method: "POST",
        headers: headers(delivery),
        body: delivery.body,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      })
      .then(async ({ statusCode, body }) => {
        await body.dump();
        const latency = performance.now() - dueAt;
        latencies.push(latency);
        if (dueAt - start >= warmUpMs) steadyLatencies.push(latency);
        if (statusCode >= 200 && statusCode < 300) counts.ok++;
        else counts.non2xx++;
      })
      .catch((error: { code?: string }) => {
        if (error.code === "UND_ERR_HEADERS_TIMEOUT" || error.code === "UND_ERR_BODY_TIMEOUT")
          counts.timeouts++;
        else counts.errors++;
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  let index = 0;
  while (index < job.amount && performance.now() < deadline) {
    const now = performance.now() - start;
    for (; index < job.amount && due[index]! <= now; index++) send(index, start + due[index]!);
    // Timers fire a millisecond late at best: a delivery leaves within about 1 ms of its time.
    if (index < job.amount) await sleep(Math.max(0, Math.min(due[index]! - now, 1)));
  }
  await Promise.race([Promise.all(inFlight), sleep(Math.max(0, deadline - performance.now()))]);
  const durationS = (performance.now() - start) / 1000;
  // Whatever is still in flight after the bound is abandoned (and counted as neither ok nor failed).
  void pool.destroy();
  return {
    ...counts,
    durationS,
    requestsPerSecond: counts.ok / durationS,
    latencyMs: percentiles(latencies),
    steady: { warmUpS: job.warmUpS ?? 0, latencyMs: percentiles(steadyLatencies) },
  };
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(sorted.at(-1) ?? 0) };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function cpuMs({ user, system }: NodeJS.CpuUsage): number {
  return (user + system) / 1000;
}
