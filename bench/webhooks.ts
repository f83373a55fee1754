/**
 * `npm run bench:webhooks`: how fast signed deliveries are acknowledged and processed by the real
 * app (intake, pg-boss, the webhook worker, Postgres), with a load generator in a separate process.
 *
 *   npm run bench:webhooks                      # burst, 30 s at 1,000/s, replicas, batch size 1
 *   npm run bench:webhooks -- --seconds 300     # the 5-minute soak (memory over time)
 *   npm run bench:webhooks -- --rate 1500       # look for the ceiling
 *   npm run bench:webhooks -- --profile         # CPU profile of the app during the sustained phase
 *
 * Deliveries are GitHub's size: pull_request.synchronize payloads of the fake GitHub's pull
 * requests laid over GitHub's own example (@octokit/webhooks-examples), so that each carries the
 * pull request with both repositories, the repository and the sender, 22–23 KB, pre-signed.
 *
 * Per run: a fresh database on one embedded Postgres (pg_stat_statements loaded), a fake GitHub
 * child process with an org whose repositories are backfilled first, then:
 * 1. burst: `--burst` deliveries from `--connections` connections, as fast as the app answers;
 *    then the drain: until every stored delivery is processed;
 * 2. sustained: `--rate` deliveries a second for `--seconds`, sent open loop at the times of a
 *    Poisson process (`--arrivals even`: evenly spaced) on up to `--rate-connections`
 *    connections, the backlog and RSS sampled every second (and with --profile, the app's CPU
 *    profile);
 * 3. replicas: the app's own webhook workers stop, `--replica-backlog` deliveries are stored, and
 *    one, then two, more processes of the app (bench/replica.ts) on the same Postgres drain them;
 * 4. baseline, measured in the same run: the burst again on a fresh app whose webhook workers take
 *    one job per fetch, each of one delivery (WEBHOOK_BATCH_SIZE=1), 8 workers as before: one
 *    transaction per delivery.
 * Acknowledgement latency is the load generator's (in the sustained phase, from each delivery's
 * due time); processing lag is processed_at − received_at of each delivery row; statements are
 * pg_stat_statements' calls over the phase (every statement of the database: intake, pg-boss,
 * webhook worker, the refresh jobs it queues). Lost = acknowledged but not stored; duplicated =
 * stored, queued or written twice.
 */
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { loadavg } from "node:os";
import { monitorEventLoopDelay, performance, PerformanceObserver } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pino from "pino";
import {
  deliver,
  settingsFrom,
  startCluster,
  startEngine,
  WEBHOOK_SECRET,
  type Cluster,
  type Engine,
} from "./engine.js";
import { startFakeProcess, type FakeProcess } from "./fake-process.js";
import type { LoadJob, LoadResult } from "./load.js";
import { mainThreadCpuMs, postgresCpuMs, processCpuMs } from "./cpu.js";
import { startReplica } from "./replica.js";
import { runHeader, saveRawFigures } from "./report.js";
import { catalog } from "../src/queue/catalog.js";
import { webhookExample } from "../test/support/webhook-examples.js";

const { values } = parseArgs({
  allowNegative: true,
  options: {
    burst: { type: "string", default: "5000" },
    connections: { type: "string", default: "64" },
    /** The sustained phase's connections, at most: see rateConnections. */
    "rate-connections": { type: "string", default: "200" },
    /** The sustained phase's arrival times: poisson (independent deliveries) or even. */
    arrivals: { type: "string", default: "poisson" },
    /** The sustained phase's first seconds, whose acknowledgement latency is reported apart. */
    "warm-up": { type: "string", default: "5" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "30" },
    repos: { type: "string", default: "20" },
    prs: { type: "string", default: "25" },
    /** How long the baseline's drain is watched before its rate is taken. */
    "baseline-window-seconds": { type: "string", default: "120" },
    baseline: { type: "boolean", default: true },
    /** One, then two more processes of the app drain a backlog of this many deliveries. */
    replicas: { type: "boolean", default: true },
    "replica-backlog": { type: "string", default: "10000" },
    /** A CPU profile of the app's process during the sustained phase (bench/out/*.cpuprofile). */
    profile: { type: "boolean", default: false },
    /** Settings of the app under test, as environment variables: KEY=VALUE,KEY=VALUE. */
    env: { type: "string", default: "" },
    "log-level": { type: "string", default: "warn" },
  },
});

const APP_ID = 1;
const SEED = 7;
const MB = 1024 * 1024;
const burst = Number(values.burst);
const connections = Number(values.connections);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
/**
 * The sustained phase sends open loop (bench/load.ts): each delivery at its time, on up to this
 * many keep-alive connections, however slow the answers.
 */
const rateConnections = Number(values["rate-connections"]);
const arrivals = values.arrivals === "even" ? "even" : "poisson";
const TARGETS = { processedPerSecond: 1000, ackP99Ms: 50, lagP99S: 2 };

const say = (line: string) => console.log(line);
const round = (value: number, digits = 1) => Number(value.toFixed(digits));
const machineLoad = () =>
  loadavg()
    .map((v) => round(v, 2))
    .join(" / ");

interface Drain {
  stored: number;
  processed: number;
  failed: number;
  /** From the first delivery's arrival to the last one's processing (or the end of the window). */
  drainS: number;
  processedPerSecond: number;
  lagMs: { p50: number; p99: number; max: number };
}

interface Phase {
  name: string;
  load: LoadResult;
  drain: Drain;
  lost: number;
  duplicated: number;
  backlog?: { maxQueued: number; samples: number[] };
  /** Active Postgres sessions by what they waited on, summed over the per-second samples. */
  waits?: Record<string, number>;
  /** The app's event loop over the phase: callback delay, and the share of time it was busy. */
  eventLoop?: {
    delayMs: { p50: number; p99: number; max: number };
    utilization: number;
    /** Garbage collection's pauses of the main thread over the phase. */
    gcMs: { total: number; p99: number; max: number };
    /** CPU time of the app's main thread over the phase's time (/proc; helper threads apart). */
    mainThreadCpu: number;
  };
  rssMb?: { start: number; peak: number; end: number; samples: number[] };
  statements: Statements;
  /** CPU time per delivery processed: the app's process, Postgres, the load generator. */
  cpuMsPerDelivery: { app: number; postgres: number; load: number };
  /** Jobs of other queues that ran over the phase (refreshes the deliveries queued), per delivery. */
  otherJobsPerDelivery: Record<string, number>;
  /** Load average when the phase ended (other sessions share the machine). */
  loadAverage: string;
}

interface Statements {
  /** Every statement of the database over the phase, per delivery processed. */
  perDelivery: number;
  /** Explicit transactions (BEGIN) per delivery processed. */
  transactionsPerDelivery: number;
  /** The statements that took the most database time. */
  top: StatementCost[];
}

interface StatementCost {
  query: string;
  callsPerDelivery: number;
  msPerDelivery: number;
  share: number;
}

interface ReplicaDrain {
  processes: number;
  deliveries: number;
  /** Processed once every replica was running, and how long that took. */
  processed: number;
  seconds: number;
  processedPerSecond: number;
  lost: number;
  duplicated: number;
  /** CPU per delivery storing the backlog (no webhook worker running), then draining it. */
  cpuMsPerDelivery: {
    intake: { app: number; postgres: number };
    processing: { replicas: number; app: number; postgres: number };
  };
  loadAverage: string;
}

/** Runs bench/load.ts in its own Node process: it reads its job on stdin, answers on stdout. */
async function runLoad(job: LoadJob): Promise<LoadResult> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL("./load.ts", import.meta.url))],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stdin.end(JSON.stringify(job));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  return JSON.parse(output) as LoadResult;
}

/** `top` laid over `base`: objects merged key by key, anything else taken from `top`. */
function overlay(base: unknown, top: unknown): unknown {
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value);
  if (!isObject(base) || !isObject(top)) return top;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(top)) merged[key] = overlay(base[key], value);
  return merged;
}

/**
 * A synchronize delivery for each of the installation's pull requests, as GitHub sends it: the
 * fake GitHub's payload (its ids, so that the deliveries update the backfilled rows) laid over
 * GitHub's example, which brings every field GitHub sends (both repositories in full, _links...).
 */
async function deliveryBodies(fake: FakeProcess, installationId: number): Promise<LoadJob["deliveries"]> {
  const webhooks = await fake.request({
    type: "pull-request-webhooks",
    installationId,
    action: "synchronize",
    limit: 1000,
  });
  const example = webhookExample("pull_request", "synchronize");
  return webhooks.map((webhook) => {
    const body = JSON.stringify(overlay(example, webhook.payload));
    return {
      event: webhook.name,
      body,
      signature: `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(body).digest("hex")}`,
    };
  });
}

/** installation.created, then wait until the backfill stored every repository. */
async function install(
  fake: FakeProcess,
  engine: Engine,
  installationId: number,
  repos: number,
): Promise<void> {
  const hook = await fake.request({ type: "installation-created", installationId });
  await deliver(engine, hook);
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const [row] = await engine.database.sql<{ complete: number }[]>`
      select count(*)::int as complete from repositories where installation_id = ${installationId}
        and sync_status = 'complete'`;
    if (row!.complete === repos) return;
    await sleep(500);
  }
  throw new Error("the backfill did not complete in time");
}

async function queuedSince(engine: Engine, since: Date): Promise<number> {
  const [row] = await engine.database.sql<{ queued: number }[]>`
    select count(*)::int as queued from webhook_deliveries where received_at >= ${since.toISOString()}::timestamptz and status = 'queued'`;
  return row!.queued;
}

/**
 * Waits until no delivery since `since` is queued (or the window ends), then reads the figures.
 * Each phase passes the time it began: received_at is the intake transaction's start, on this
 * machine's clock, so none of the phase before is counted (an allowance of a second counted the
 * burst's last deliveries in the sustained phase: 395 rows, a second more of drain).
 */
async function drain(engine: Engine, since: Date, windowS: number): Promise<Drain> {
  const deadline = Date.now() + windowS * 1000;
  while (Date.now() < deadline && (await queuedSince(engine, since)) > 0) await sleep(250);
  const [row] = await engine.database.sql<
    {
      stored: number;
      processed: number;
      failed: number;
      first_received: Date | null;
      last_processed: Date | null;
      p50: number | null;
      p99: number | null;
      max: number | null;
    }[]
  >`
    select count(*)::int as stored,
           count(*) filter (where status = 'processed')::int as processed,
           count(*) filter (where status = 'failed')::int as failed,
           min(received_at) as first_received,
           max(processed_at) as last_processed,
           percentile_cont(0.5) within group (order by extract(epoch from processed_at - received_at) * 1000)
             filter (where processed_at is not null) as p50,
           percentile_cont(0.99) within group (order by extract(epoch from processed_at - received_at) * 1000)
             filter (where processed_at is not null) as p99,
           max(extract(epoch from processed_at - received_at) * 1000) as max
    from webhook_deliveries where received_at >= ${since.toISOString()}::timestamptz`;
  const first = row!.first_received ? new Date(row!.first_received).getTime() : Date.now();
  const queuedLeft = row!.stored - row!.processed - row!.failed;
  const end = queuedLeft > 0 || !row!.last_processed ? Date.now() : new Date(row!.last_processed).getTime();
  const drainS = Math.max(0.001, (end - first) / 1000);
  return {
    stored: row!.stored,
    processed: row!.processed,
    failed: row!.failed,
    drainS,
    processedPerSecond: row!.processed / drainS,
    lagMs: { p50: Number(row!.p50 ?? 0), p99: Number(row!.p99 ?? 0), max: Number(row!.max ?? 0) },
  };
}

/** Acknowledged but not stored, and stored, queued or written more than once. */
async function integrity(engine: Engine, since: Date, acknowledged: number) {
  const [row] = await engine.database.sql<{ stored: number; jobs: number; attempts: number }[]>`
    select (select count(*)::int from webhook_deliveries where received_at >= ${since.toISOString()}::timestamptz) as stored,
           (select count(*)::int from webhook_deliveries
              where received_at >= ${since.toISOString()}::timestamptz and attempts > 1) as attempts,
           (select coalesce(sum(coalesce(jsonb_array_length(data->'deliveryIds'), 1)), 0)::int from pgboss.job
              where name = 'process-webhook' and created_on >= ${since.toISOString()}::timestamptz) as jobs`;
  const [dup] = await engine.database.sql<{ extra: number }[]>`
    select coalesce(sum(n - 1), 0)::int as extra from (
      select count(*) as n from pull_requests group by installation_id, id having count(*) > 1) d`;
  return {
    lost: Math.max(0, acknowledged - row!.stored),
    // Each stored delivery named by one processing job (a job names several) and attempted once; a
    // second one, or a duplicated row, is a duplicate.
    duplicated: Math.max(0, row!.jobs - row!.stored) + row!.attempts + dup!.extra,
  };
}

/** What Postgres sessions wait on, summed over samples: where the time goes. */
async function sampleWaits(engine: Engine, waits: Map<string, number>): Promise<void> {
  const rows = await engine.database.sql<{ wait: string; count: number }[]>`
    select coalesce(wait_event_type || ':' || wait_event, 'cpu') as wait, count(*)::int as count
    from pg_stat_activity
    where datname = current_database() and state = 'active' and pid <> pg_backend_pid()
    group by 1`;
  for (const row of rows) waits.set(row.wait, (waits.get(row.wait) ?? 0) + row.count);
}

function sampleEverySecond(engine: Engine, since: Date) {
  // The app's event loop (it runs in this process): how long a callback, such as a request's
  // next step, waited to run, and how busy the loop was.
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const gcPauses: number[] = [];
  const gc = new PerformanceObserver((list) =>
    list.getEntries().forEach((entry) => gcPauses.push(entry.duration)),
  );
  gc.observe({ entryTypes: ["gc"] });
  const utilizationAtStart = performance.eventLoopUtilization();
  const startedAt = performance.now();
  const mainThreadAtStart = mainThreadCpuMs();
  const backlog: number[] = [];
  const rss: number[] = [];
  const waits = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      backlog.push(await queuedSince(engine, since));
      rss.push(Math.round(process.memoryUsage().rss / MB));
      await sampleWaits(engine, waits);
      await sleep(1000);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    delay.disable();
    gc.disconnect();
    gcPauses.sort((a, b) => a - b);
    const ms = (ns: number) => round(ns / 1e6);
    const eventLoop = {
      delayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
      utilization: round(performance.eventLoopUtilization(utilizationAtStart).utilization, 2),
      gcMs: {
        total: Math.round(gcPauses.reduce((sum, pause) => sum + pause, 0)),
        p99: round(gcPauses[Math.floor(gcPauses.length * 0.99)] ?? 0),
        max: round(gcPauses.at(-1) ?? 0),
      },
      mainThreadCpu: round(
        ((await mainThreadCpuMs()) - (await mainThreadAtStart)) / (performance.now() - startedAt),
        2,
      ),
    };
    return { backlog, rss, waits, eventLoop };
  };
}

/** Starts counting CPU time; the result gives it per delivery processed. */
async function countCpu(engine: Engine) {
  const app = process.cpuUsage();
  const postgres = await postgresCpuMs(engine.database.sql);
  return async (deliveries: number, load: LoadResult) => {
    const { user, system } = process.cpuUsage(app);
    const per = Math.max(1, deliveries);
    return {
      app: (user + system) / 1000 / per,
      postgres: ((await postgresCpuMs(engine.database.sql)) - postgres) / per,
      load: load.cpuMs / per,
    };
  };
}

/** Jobs other than webhook processing that ran since `since`, per delivery processed. */
async function otherJobs(engine: Engine, since: Date, deliveries: number): Promise<Record<string, number>> {
  const rows = await engine.database.sql<{ name: string; jobs: number }[]>`
    select name, count(*)::int as jobs from pgboss.job
    where name <> 'process-webhook' and started_on >= ${since.toISOString()}::timestamptz
    group by name order by name`;
  return Object.fromEntries(rows.map((row) => [row.name, row.jobs / Math.max(1, deliveries)]));
}

async function resetStatements(engine: Engine): Promise<void> {
  await engine.database.sql`create extension if not exists pg_stat_statements`;
  await engine.database.sql`select pg_stat_statements_reset()`;
}

/** Every statement of the database since the reset (the app's, pg-boss's, the refresh jobs'), per delivery. */
async function statementsPerDelivery(engine: Engine, deliveries: number): Promise<Statements> {
  const recorded = await engine.database.sql<{ query: string; calls: number; ms: number }[]>`
    select regexp_replace(query, '[[:space:]]+', ' ', 'g') as query, calls::float8 as calls,
           total_exec_time::float8 as ms
    from pg_stat_statements
    where dbid = (select oid from pg_database where datname = current_database())
      and query not like '%pg_stat_statements%'
      and query not like '%pg_stat_activity%'
      and query not like '%webhook_deliveries where received_at >=%'`;
  const rows = sameStatements(recorded).sort((a, b) => b.ms - a.ms);
  const total = rows.reduce((sum, row) => sum + row.ms, 0);
  const per = Math.max(1, deliveries);
  const calls = (filter: (query: string) => boolean) =>
    rows.filter((row) => filter(row.query)).reduce((sum, row) => sum + row.calls, 0);
  return {
    perDelivery: calls(() => true) / per,
    transactionsPerDelivery: calls((query) => /^begin\b/i.test(query.trim())) / per,
    top: rows.slice(0, 12).map((row) => ({
      query: row.query.slice(0, 110),
      callsPerDelivery: row.calls / per,
      msPerDelivery: row.ms / per,
      share: row.ms / Math.max(total, 1e-9),
    })),
  };
}

/**
 * Statements that differ only in their number of VALUES rows counted as one: the intake's insert
 * has a row of parameters per delivery, and pg_stat_statements keeps a statement per row count.
 */
function sameStatements(rows: readonly { query: string; calls: number; ms: number }[]) {
  const merged = new Map<string, { query: string; calls: number; ms: number }>();
  for (const row of rows) {
    const query = row.query.replace(/ values \(\$.*?\) on conflict /, " values (…) on conflict ");
    const entry = merged.get(query) ?? { query, calls: 0, ms: 0 };
    entry.calls += row.calls;
    entry.ms += row.ms;
    merged.set(query, entry);
  }
  return [...merged.values()];
}

interface App {
  engine: Engine;
  fake: FakeProcess;
  deliveries: LoadJob["deliveries"];
  databaseUrl: string;
}

async function runApp<T>(
  cluster: Cluster,
  name: string,
  env: Record<string, string>,
  phases: (app: App) => Promise<T>,
): Promise<T> {
  const repos = Number(values.repos);
  const fake = await startFakeProcess({
    seed: SEED,
    appId: APP_ID,
    latency: { baseMs: 2, perNodeMs: 0 },
    orgs: [{ login: `hooks-${name}`, repos, prsPerRepo: Number(values.prs) }],
    maxSeconds: 3600,
  });
  let engine: Engine | undefined;
  try {
    const databaseUrl = await cluster.createDatabase(`bench_hooks_${name}_${Date.now()}`);
    engine = await startEngine({
      databaseUrl,
      githubHost: fake.host,
      appId: APP_ID,
      logLevel: values["log-level"],
      env,
    });
    const installation = fake.installations[0]!;
    await install(fake, engine, installation.id, repos);
    const deliveries = await deliveryBodies(fake, installation.id);
    const bytes = deliveries.map((delivery) => Buffer.byteLength(delivery.body));
    say(
      `  ${name}: ${repos} repos backfilled; ${deliveries.length} distinct pull requests to update, ` +
        `payloads ${round(Math.min(...bytes) / 1024)}–${round(Math.max(...bytes) / 1024)} KB`,
    );
    return await phases({ engine, fake, deliveries, databaseUrl });
  } finally {
    await engine?.stop();
    await fake.stop();
  }
}

async function burstPhase(name: string, { engine, deliveries }: App, windowS: number): Promise<Phase> {
  const since = new Date();
  await resetStatements(engine);
  const cpu = await countCpu(engine);
  const load = await runLoad({
    url: engine.webhookUrl,
    deliveries,
    connections,
    amount: burst,
    rate: 0,
    maxSeconds: 300,
  });
  const drained = await drain(engine, since, windowS);
  return {
    name,
    load,
    drain: drained,
    ...(await integrity(engine, since, load.ok)),
    statements: await statementsPerDelivery(engine, drained.processed),
    cpuMsPerDelivery: await cpu(drained.processed, load),
    otherJobsPerDelivery: await otherJobs(engine, since, drained.processed),
    loadAverage: machineLoad(),
  };
}

async function sustainedPhase({ engine, deliveries }: App): Promise<Phase> {
  const since = new Date();
  await resetStatements(engine);
  const cpu = await countCpu(engine);
  const stop = sampleEverySecond(engine, since);
  const profiler = values.profile ? await startProfile() : undefined;
  const load = await runLoad({
    url: engine.webhookUrl,
    deliveries,
    connections: rateConnections,
    amount: rate * seconds,
    rate,
    arrivals,
    warmUpS: Number(values["warm-up"]),
    maxSeconds: seconds * 3 + 60,
  });
  const profile = await profiler?.();
  const drained = await drain(engine, since, 120);
  const samples = await stop();
  if (profile) await reportProfile(profile);
  return {
    waits: Object.fromEntries([...samples.waits].sort((a, b) => b[1] - a[1]).slice(0, 8)),
    name: `sustained ${rate}/s for ${seconds} s`,
    load,
    drain: drained,
    ...(await integrity(engine, since, load.ok)),
    backlog: { maxQueued: Math.max(0, ...samples.backlog), samples: samples.backlog },
    eventLoop: samples.eventLoop,
    rssMb: {
      start: samples.rss[0] ?? 0,
      peak: Math.max(0, ...samples.rss),
      end: samples.rss.at(-1) ?? 0,
      samples: samples.rss,
    },
    statements: await statementsPerDelivery(engine, drained.processed),
    cpuMsPerDelivery: await cpu(drained.processed, load),
    otherJobsPerDelivery: await otherJobs(engine, since, drained.processed),
    loadAverage: machineLoad(),
  };
}

/**
 * The app's own webhook workers stop; a backlog is stored through its intake; then `processes`
 * more processes of the app, working only webhooks, drain it. The rate counts what was processed
 * once all of them were running.
 */
async function replicaDrain(app: App, processes: number, env: Record<string, string>): Promise<ReplicaDrain> {
  const { engine } = app;
  const since = new Date();
  const amount = Number(values["replica-backlog"]);
  // CPU time so far: this process's (the first app process) and Postgres's.
  const cpuAt = async () => {
    const { user, system } = process.cpuUsage();
    return { app: (user + system) / 1000, postgres: await postgresCpuMs(engine.database.sql) };
  };
  const beforeIntake = await cpuAt();
  const stored = await runLoad({
    url: engine.webhookUrl,
    deliveries: app.deliveries,
    connections,
    amount,
    rate: 0,
    maxSeconds: 300,
  });
  const afterIntake = await cpuAt();
  const replicas = await Promise.all(
    Array.from({ length: processes }, () =>
      startReplica({
        databaseUrl: app.databaseUrl,
        githubHost: app.fake.host,
        appId: APP_ID,
        logLevel: values["log-level"],
        env,
        queues: ["processWebhook"],
      }),
    ),
  );
  const running = new Date();
  const replicasCpu = async () =>
    (await Promise.all(replicas.map((replica) => processCpuMs(replica.pid ?? 0)))).reduce((a, b) => a + b, 0);
  const beforeDrain = { ...(await cpuAt()), replicas: await replicasCpu() };
  let afterDrain: typeof beforeDrain;
  try {
    await drain(engine, since, 300);
    afterDrain = { ...(await cpuAt()), replicas: await replicasCpu() };
  } finally {
    await Promise.all(replicas.map((replica) => replica.stop()));
  }
  const [row] = await engine.database.sql<{ processed: number; last: Date | null }[]>`
    select count(*)::int as processed, max(processed_at) as last from webhook_deliveries
    where received_at >= ${since.toISOString()}::timestamptz and processed_at >= ${running.toISOString()}::timestamptz`;
  const secondsTaken = Math.max(
    0.001,
    ((row!.last ? new Date(row!.last).getTime() : Date.now()) - running.getTime()) / 1000,
  );
  const perStored = Math.max(1, stored.ok);
  return {
    processes,
    deliveries: stored.ok,
    processed: row!.processed,
    seconds: secondsTaken,
    processedPerSecond: row!.processed / secondsTaken,
    ...(await integrity(engine, since, stored.ok)),
    cpuMsPerDelivery: {
      intake: {
        app: (afterIntake.app - beforeIntake.app) / perStored,
        postgres: (afterIntake.postgres - beforeIntake.postgres) / perStored,
      },
      processing: {
        replicas: (afterDrain.replicas - beforeDrain.replicas) / perStored,
        app: (afterDrain.app - beforeDrain.app) / perStored,
        postgres: (afterDrain.postgres - beforeDrain.postgres) / perStored,
      },
    },
    loadAverage: machineLoad(),
  };
}

async function replicasPhase(app: App, env: Record<string, string>): Promise<ReplicaDrain[]> {
  await app.engine.boss.offWork(catalog.processWebhook.name);
  const drains: ReplicaDrain[] = [];
  for (const processes of [1, 2]) drains.push(await replicaDrain(app, processes, env));
  return drains;
}

type CpuProfile = {
  nodes: { id: number; callFrame: { functionName: string; url: string }; hitCount?: number }[];
  startTime: number;
  endTime: number;
};

/** Starts V8's sampling profiler in this process (the app's); the result stops it. */
async function startProfile(): Promise<() => Promise<CpuProfile>> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return async () => {
    const { profile } = (await session.post("Profiler.stop")) as unknown as { profile: CpuProfile };
    session.disconnect();
    return profile;
  };
}

/** Where the app's CPU time went, by package (or file of src/), saved in full for DevTools. */
async function reportProfile(profile: CpuProfile): Promise<void> {
  const file = `bench/out/webhooks-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`;
  await writeFile(file, JSON.stringify(profile));
  const byPlace = new Map<string, number>();
  for (const node of profile.nodes) {
    const place = placeOf(node.callFrame);
    byPlace.set(place, (byPlace.get(place) ?? 0) + (node.hitCount ?? 0));
  }
  const idle = byPlace.get("(idle)") ?? 0;
  const total = [...byPlace.values()].reduce((sum, hits) => sum + hits, 0);
  const busy = Math.max(1, total - idle);
  say(`\n## CPU profile of the app's process (sustained phase; ${file})`);
  say(`  busy ${Math.round((busy / Math.max(1, total)) * 100)}% of the samples; of the busy time:`);
  for (const [place, hits] of [...byPlace]
    .filter(([place]) => place !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)) {
    say(`  ${Math.round((hits / busy) * 1000) / 10}%`.padEnd(9) + place);
  }
}

function placeOf({ functionName, url }: { functionName: string; url: string }): string {
  if (!url) return functionName.startsWith("(") ? functionName : `(native) ${functionName}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith("node:")) return `node: ${url.slice(5).split("/")[0]}`;
  const ours = /\/(src|bench|test)\/(.*)$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

function report(phases: Phase[], replicas: ReplicaDrain[], baseline: Phase | undefined): string[] {
  const lines: string[] = [];
  const line = (text = "") => lines.push(text);
  line("\n# Results");
  for (const p of [...phases, ...(baseline ? [baseline] : [])]) {
    line(`\n## ${p.name} (load average at its end ${p.loadAverage})`);
    line(
      `  acknowledged            ${p.load.ok} of ${p.load.sent} (non-2xx ${p.load.non2xx}, errors ${p.load.errors}, ` +
        `timeouts ${p.load.timeouts}) in ${round(p.load.durationS)} s = ${Math.round(p.load.ok / p.load.durationS)}/s`,
    );
    line(
      `  acknowledgement latency p50 ${p.load.latencyMs.p50} ms, p90 ${p.load.latencyMs.p90} ms, ` +
        `p99 ${p.load.latencyMs.p99} ms, max ${p.load.latencyMs.max} ms` +
        (p.load.steady ? ` (from each delivery's due time)` : ""),
    );
    if (p.load.steady) {
      const { warmUpS, latencyMs } = p.load.steady;
      line(
        `    after the first ${warmUpS} s  p50 ${latencyMs.p50} ms, p90 ${latencyMs.p90} ms, p99 ${latencyMs.p99} ms, ` +
          `max ${latencyMs.max} ms`,
      );
    }
    line(
      `  processed               ${p.drain.processed} of ${p.drain.stored} stored (failed ${p.drain.failed}) ` +
        `in ${round(p.drain.drainS)} s = ${Math.round(p.drain.processedPerSecond)}/s`,
    );
    line(
      `  processing lag          p50 ${Math.round(p.drain.lagMs.p50)} ms, p99 ${Math.round(p.drain.lagMs.p99)} ms, ` +
        `max ${Math.round(p.drain.lagMs.max)} ms`,
    );
    line(`  lost / duplicated       ${p.lost} / ${p.duplicated}`);
    line(
      `  statements per delivery ${round(p.statements.perDelivery, 2)} ` +
        `(transactions ${round(p.statements.transactionsPerDelivery, 3)}); intake, pg-boss and refresh jobs included`,
    );
    const cpu = p.cpuMsPerDelivery;
    line(
      `  CPU per delivery        app ${round(cpu.app, 2)} ms, Postgres ${round(cpu.postgres, 2)} ms, ` +
        `load generator ${round(cpu.load, 2)} ms: ${round(cpu.app + cpu.postgres + cpu.load, 2)} ms ` +
        `(2 cores: at most ${Math.round(2000 / Math.max(0.01, cpu.app + cpu.postgres + cpu.load))}/s with nothing else running)`,
    );
    line(
      `  other jobs per delivery ${
        Object.entries(p.otherJobsPerDelivery)
          .map(([name, jobs]) => `${name} ${round(jobs, 3)}`)
          .join(", ") || "none"
      }`,
    );
    if (p.backlog) line(`  backlog (queued) max    ${p.backlog.maxQueued}`);
    if (p.eventLoop) {
      const { delayMs, utilization, mainThreadCpu, gcMs } = p.eventLoop;
      line(
        `  app's event loop        busy ${Math.round(utilization * 100)}%, main thread's CPU ` +
          `${Math.round(mainThreadCpu * 100)}%; delay p50 ${delayMs.p50} ms, ` +
          `p99 ${delayMs.p99} ms, max ${delayMs.max} ms; GC pauses ${gcMs.total} ms in all, p99 ${gcMs.p99} ms, ` +
          `max ${gcMs.max} ms`,
      );
    }
    if (p.waits) {
      line(
        `  Postgres sessions wait  ${Object.entries(p.waits)
          .map(([wait, count]) => `${wait} ${count}`)
          .join(", ")} (active sessions summed over 1 s samples)`,
      );
    }
    line(`  database time per delivery (pg_stat_statements; calls, ms, share of the time):`);
    for (const cost of p.statements.top) {
      line(
        `    ${round(cost.callsPerDelivery, 3).toString().padStart(6)}  ${round(cost.msPerDelivery, 3)
          .toString()
          .padStart(7)} ms  ${Math.round(cost.share * 100)
          .toString()
          .padStart(3)}%  ${cost.query}`,
      );
    }
    if (p.rssMb) {
      const half = Math.floor(p.rssMb.samples.length / 2);
      const secondHalf = p.rssMb.samples.slice(half);
      line(
        `  RSS                     start ${p.rssMb.start} MB, peak ${p.rssMb.peak} MB, end ${p.rssMb.end} MB; ` +
          `second half ${Math.min(...secondHalf)}–${Math.max(...secondHalf)} MB`,
      );
    }
  }
  if (replicas.length > 0)
    line(`\n## Replicas: a backlog drained by more processes of the app on one Postgres`);
  for (const r of replicas) {
    line(
      `  ${r.processes} process${r.processes > 1 ? "es" : ""}: ${r.processed} of ${r.deliveries} processed in ` +
        `${round(r.seconds)} s once running = ${Math.round(r.processedPerSecond)}/s; lost / duplicated ` +
        `${r.lost} / ${r.duplicated} (load average ${r.loadAverage})`,
    );
    const { intake, processing } = r.cpuMsPerDelivery;
    line(
      `    CPU per delivery: intake (no worker running) app ${round(intake.app, 2)} ms + Postgres ` +
        `${round(intake.postgres, 2)} ms; processing: replica${r.processes > 1 ? "s" : ""} ` +
        `${round(processing.replicas, 2)} ms + Postgres ${round(processing.postgres, 2)} ms ` +
        `(+ ${round(processing.app, 2)} ms in the first process: refreshes, sampling)`,
    );
  }
  const tunedBurst = phases.find((p) => p.name.startsWith("burst"));
  if (tunedBurst && baseline) {
    line(
      `\n## Ratio against one transaction per delivery (WEBHOOK_BATCH_SIZE=1), same run: statements per delivery ` +
        `${round(tunedBurst.statements.perDelivery, 2)} vs ${round(baseline.statements.perDelivery, 2)} ` +
        `(${round(baseline.statements.perDelivery / Math.max(0.01, tunedBurst.statements.perDelivery), 1)}× fewer), ` +
        `transactions ${round(tunedBurst.statements.transactionsPerDelivery, 3)} vs ` +
        `${round(baseline.statements.transactionsPerDelivery, 3)}, burst drain ` +
        `${Math.round(tunedBurst.drain.processedPerSecond)}/s vs ${Math.round(baseline.drain.processedPerSecond)}/s ` +
        `(${round(tunedBurst.drain.processedPerSecond / Math.max(0.01, baseline.drain.processedPerSecond), 1)}×)`,
    );
  }
  line(`\n## Targets (load average at the end ${machineLoad()})`);
  const check = (ok: boolean, text: string) => line(`  ${ok ? "PASS" : "FAIL"}  ${text}`);
  const sustained = phases.find((p) => p.name.startsWith("sustained"));
  if (sustained) {
    const steadyAck = sustained.load.steady?.latencyMs ?? sustained.load.latencyMs;
    const processedRate = sustained.drain.processedPerSecond;
    if (rate >= TARGETS.processedPerSecond) {
      check(
        // Every stored delivery processed (the lost count, below, holds the answers against the rows),
        // at the rate offered less 2%: the last arrivals' lag, and a Poisson sample's own rate.
        processedRate >= TARGETS.processedPerSecond * 0.98 &&
          sustained.drain.processed === sustained.drain.stored,
        `sustained ≥ ${TARGETS.processedPerSecond}/s processed (${Math.round(processedRate)}/s, ` +
          `acknowledged ${Math.round(sustained.load.ok / sustained.load.durationS)}/s)`,
      );
    } else {
      line(`  –     sustained ≥ ${TARGETS.processedPerSecond}/s processed: not judged at --rate ${rate}`);
    }
    check(
      steadyAck.p99 < TARGETS.ackP99Ms,
      `acknowledgement p99 < ${TARGETS.ackP99Ms} ms after the first ${sustained.load.steady?.warmUpS ?? 0} s ` +
        `(${steadyAck.p99} ms; ${sustained.load.latencyMs.p99} ms with them)`,
    );
    check(
      sustained.drain.lagMs.p99 < TARGETS.lagP99S * 1000,
      `processing lag p99 < ${TARGETS.lagP99S} s (${round(sustained.drain.lagMs.p99 / 1000, 2)} s)`,
    );
  }
  for (const p of phases) check(p.lost === 0 && p.duplicated === 0, `${p.name}: zero lost, zero duplicated`);
  const [one, two] = replicas;
  if (one && two) {
    check(
      two.processedPerSecond > one.processedPerSecond &&
        one.lost + one.duplicated + two.lost + two.duplicated === 0,
      `two processes drain faster than one (${Math.round(two.processedPerSecond)}/s vs ` +
        `${Math.round(one.processedPerSecond)}/s), nothing lost or duplicated`,
    );
  }
  return lines;
}

let cluster: Cluster | undefined;

async function main(): Promise<void> {
  const startedAt = new Date();
  say(runHeader("webhooks", startedAt));
  say(
    `  burst ${burst} at ${connections} connections; sustained ${rate}/s for ${seconds} s (${arrivals} arrivals, up to ${rateConnections} connections); load average ${machineLoad()}`,
  );
  const log = pino({ level: values["log-level"] }, pino.destination(2));
  cluster = await startCluster(log, {
    postgresFlags: [
      "-c",
      "shared_preload_libraries=pg_stat_statements",
      "-c",
      "pg_stat_statements.track=all",
    ],
  });
  try {
    const env = settingsFrom(values.env);
    if (Object.keys(env).length > 0) say(`  app settings: ${JSON.stringify(env)}`);
    const { phases, replicas } = await runApp(cluster, "now", env, async (app) => {
      const measured = [await burstPhase(`burst of ${burst}`, app, 300), await sustainedPhase(app)];
      return { phases: measured, replicas: values.replicas ? await replicasPhase(app, env) : [] };
    });
    const baseline = values.baseline
      ? // The settings before batches: one delivery per job and fetch, 8 workers (the default then).
        await runApp(
          cluster,
          "baseline",
          { ...env, WEBHOOK_BATCH_SIZE: "1", WEBHOOK_WORKER_CONCURRENCY: "8" },
          (app) =>
            burstPhase(
              `baseline: burst of ${burst}, one delivery per fetch and transaction (watched for ${values["baseline-window-seconds"]} s)`,
              app,
              Number(values["baseline-window-seconds"]),
            ),
        )
      : undefined;
    const lines = report(phases, replicas, baseline);
    for (const text of lines) say(text);
    const file = await saveRawFigures("webhooks", startedAt, { phases, replicas, baseline });
    say(`\n(raw figures: ${file})`);
  } finally {
    await cluster.stop();
    cluster = undefined;
  }
}

// Whatever happens, the run ends.
setTimeout(
  () => {
    console.error("bench: hard time limit reached; stopping Postgres and exiting");
    void Promise.race([cluster?.stop() ?? Promise.resolve(), sleep(15_000)]).finally(() => process.exit(2));
  },
  (seconds * 3 + 1800) * 1000,
).unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
