/**
 * The load generator of `npm run bench:webhooks`, in a process of its own (so its CPU is not the
 * app's event loop): autocannon posting signed deliveries, each with a fresh GUID, cycling through
 * the bodies it was given. Reads its job as JSON from stdin, prints autocannon's result as JSON on
 * stdout.
 */
import { randomUUID } from "node:crypto";
import autocannon from "autocannon";

export interface LoadJob {
  url: string;
  /** Pre-serialised bodies with their signature and event name. */
  deliveries: { event: string; body: string; signature: string }[];
  connections: number;
  /** Total deliveries to send. */
  amount: number;
  /** Deliveries per second across all connections; 0 sends as fast as the server answers. */
  rate: number;
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
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** CPU time the load generator itself used. */
  cpuMs: number;
}

async function readJob(): Promise<LoadJob> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as LoadJob;
}

const job = await readJob();
const cpuAtStart = process.cpuUsage();
let next = 0;
const result = await autocannon({
  url: job.url,
  connections: job.connections,
  amount: job.amount,
  ...(job.rate > 0 ? { overallRate: job.rate } : {}),
  timeout: 10,
  // Stops the run if the app stops answering; autocannon's own `duration` is ignored with `amount`.
  maxOverallRequests: job.amount,
  requests: [
    {
      method: "POST",
      setupRequest: (request: Record<string, unknown>) => {
        const delivery = job.deliveries[next++ % job.deliveries.length]!;
        request.body = delivery.body;
        request.headers = {
          "content-type": "application/json",
          "user-agent": "GitHub-Hookshot/bench",
          "x-github-event": delivery.event,
          "x-github-delivery": randomUUID(),
          "x-hub-signature-256": delivery.signature,
        };
        return request;
      },
    },
  ],
});
const summary: LoadResult = {
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
  cpuMs: cpuMs(process.cpuUsage(cpuAtStart)),
};
process.stdout.write(JSON.stringify(summary));

function cpuMs({ user, system }: NodeJS.CpuUsage): number {
  return (user + system) / 1000;
}
setTimeout(() => process.exit(0), job.maxSeconds * 1000).unref();
