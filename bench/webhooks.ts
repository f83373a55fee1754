/**
 * `npm run bench:webhooks`: how fast signed deliveries are acknowledged and processed by the real
 * app (intake, pg-boss, Probot handlers, Postgres), with a load generator in a separate process.
 *
 *   npm run bench:webhooks                      # burst + 30 s at 1,000/s + the same burst on the old setting
 *   npm run bench:webhooks -- --seconds 300     # the 5-minute soak (memory over time)
 *   npm run bench:webhooks -- --rate 1500       # look for the ceiling
 *
 * Per run: a fresh database on one embedded Postgres, a fake GitHub child process with an org whose
 * repositories are backfilled first, then:
 * 1. burst: `--burst` signed pull_request.synchronize deliveries, `--connections` at a time, as fast
 *    as the app answers; then the drain: until every stored delivery is processed;
 * 2. sustained: `--rate` deliveries a second for `--seconds`, the backlog and RSS sampled every second;
 * 3. baseline, measured in the same run: the burst again on a fresh app whose webhook workers take
 *    one job per fetch (WEBHOOK_BATCH_SIZE=1, how they worked before), drain watched for a bounded
 *    window.
 * Acknowledgement latency is autocannon's; processing lag is processed_at − received_at of each
 * delivery row. Lost = acknowledged but not stored; duplicated = stored or processed twice.
 */
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pino from "pino";
import { deliver, startCluster, startEngine, WEBHOOK_SECRET, type Cluster, type Engine } from "./engine.js";
import { startFakeProcess, type FakeProcess } from "./fake-process.js";
import type { LoadJob, LoadResult } from "./load.js";
import { runHeader, saveRawFigures } from "./report.js";

const { values } = parseArgs({
  allowNegative: true,
  options: {
    burst: { type: "string", default: "1500" },
    connections: { type: "string", default: "32" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "30" },
    repos: { type: "string", default: "20" },
    prs: { type: "string", default: "25" },
    /** How long the baseline's drain is watched before its rate is taken. */
    "baseline-window-seconds": { type: "string", default: "60" },
    baseline: { type: "boolean", default: true },
    /** Where the burst's database time goes: pg_stat_statements, per delivery. */
    statements: { type: "boolean", default: false },
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
const TARGETS = { ackPerSecond: 1000, ackP99Ms: 50, lagP99S: 2 };

const say = (line: string) => console.log(line);
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

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
  rssMb?: { start: number; peak: number; end: number; samples: number[] };
  /** With --statements: the statements that took the most database time, per delivery. */
  statements?: StatementCost[];
}

interface StatementCost {
  query: string;
  callsPerDelivery: number;
  msPerDelivery: number;
  share: number;
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

async function deliveryBodies(fake: FakeProcess, installationId: number): Promise<LoadJob["deliveries"]> {
  const webhooks = await fake.request({
    type: "pull-request-webhooks",
    installationId,
    action: "synchronize",
    limit: 1000,
  });
  return webhooks.map((webhook) => {
    const body = JSON.stringify(webhook.payload);
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

/** Waits until no delivery since `since` is queued (or the window ends), then reads the figures. */
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

/** Acknowledged but not stored, and stored or processed more than once. */
async function integrity(engine: Engine, since: Date, load: LoadResult) {
  const [row] = await engine.database.sql<{ stored: number; jobs: number }[]>`
    select (select count(*)::int from webhook_deliveries where received_at >= ${since.toISOString()}::timestamptz) as stored,
           (select count(*)::int from pgboss.job where name = 'process-webhook' and created_on >= ${since.toISOString()}::timestamptz) as jobs`;
  const [dup] = await engine.database.sql<{ extra: number }[]>`
    select coalesce(sum(n - 1), 0)::int as extra from (
      select count(*) as n from pull_requests group by installation_id, id having count(*) > 1) d`;
  return {
    lost: Math.max(0, load.ok - row!.stored),
    // Every stored delivery has one processing job; a second one, or a duplicated row, is a duplicate.
    duplicated: Math.max(0, row!.jobs - row!.stored) + dup!.extra,
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
    return { backlog, rss, waits };
  };
}

async function runApp(
  cluster: Cluster,
  name: string,
  env: Record<string, string>,
  phases: (engine: Engine, deliveries: LoadJob["deliveries"]) => Promise<Phase[]>,
): Promise<Phase[]> {
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
    engine = await startEngine({
      databaseUrl: await cluster.createDatabase(`bench_hooks_${name}_${Date.now()}`),
      githubHost: fake.host,
      appId: APP_ID,
      logLevel: values["log-level"],
      env,
    });
    const installation = fake.installations[0]!;
    await install(fake, engine, installation.id, repos);
    const deliveries = await deliveryBodies(fake, installation.id);
    say(`  ${name}: ${repos} repos backfilled; ${deliveries.length} distinct pull requests to update`);
    return await phases(engine, deliveries);
  } finally {
    await engine?.stop();
    await fake.stop();
  }
}

async function burstPhase(
  name: string,
  engine: Engine,
  deliveries: LoadJob["deliveries"],
  windowS: number,
): Promise<Phase> {
  const since = new Date(Date.now() - 1000);
  if (values.statements) {
    await engine.database.sql`create extension if not exists pg_stat_statements`;
    await engine.database.sql`select pg_stat_statements_reset()`;
  }
  const load = await runLoad({
    url: engine.webhookUrl,
    deliveries,
    connections,
    amount: burst,
    rate: 0,
    maxSeconds: 120,
  });
  const drained = await drain(engine, since, windowS);
  return {
    name,
    load,
    drain: drained,
    ...(await integrity(engine, since, load)),
    ...(values.statements ? { statements: await statementCosts(engine, drained.processed) } : {}),
  };
}

/** Every statement of the run (the app's, pg-boss's and the refresh jobs'), per delivery processed. */
async function statementCosts(engine: Engine, deliveries: number): Promise<StatementCost[]> {
  const rows = await engine.database.sql<{ query: string; calls: number; ms: number }[]>`
    select regexp_replace(query, '[[:space:]]+', ' ', 'g') as query, calls::float8 as calls,
           total_exec_time::float8 as ms
    from pg_stat_statements
    where dbid = (select oid from pg_database where datname = current_database())
      and query not like '%pg_stat_statements%'
    order by total_exec_time desc`;
  const total = rows.reduce((sum, row) => sum + row.ms, 0);
  const per = Math.max(1, deliveries);
  return [
    {
      query: "(all statements)",
      callsPerDelivery: rows.reduce((sum, row) => sum + row.calls, 0) / per,
      msPerDelivery: total / per,
      share: 1,
    },
    ...rows.slice(0, 15).map((row) => ({
      query: row.query.slice(0, 110),
      callsPerDelivery: row.calls / per,
      msPerDelivery: row.ms / per,
      share: row.ms / Math.max(total, 1e-9),
    })),
  ];
}

async function sustainedPhase(engine: Engine, deliveries: LoadJob["deliveries"]): Promise<Phase> {
  const since = new Date(Date.now() - 1000);
  const stop = sampleEverySecond(engine, since);
  const load = await runLoad({
    url: engine.webhookUrl,
    deliveries,
    connections,
    amount: rate * seconds,
    rate,
    maxSeconds: seconds * 3 + 60,
  });
  const drained = await drain(engine, since, 120);
  const samples = await stop();
  return {
    waits: Object.fromEntries([...samples.waits].sort((a, b) => b[1] - a[1]).slice(0, 8)),
    name: `sustained ${rate}/s for ${seconds} s`,
    load,
    drain: drained,
    ...(await integrity(engine, since, load)),
    backlog: { maxQueued: Math.max(0, ...samples.backlog), samples: samples.backlog },
    rssMb: {
      start: samples.rss[0] ?? 0,
      peak: Math.max(0, ...samples.rss),
      end: samples.rss.at(-1) ?? 0,
      samples: samples.rss,
    },
  };
}

function report(phases: Phase[], baseline: Phase | undefined): string[] {
  const lines: string[] = [];
  const line = (text = "") => lines.push(text);
  line("\n# Results");
  for (const p of [...phases, ...(baseline ? [baseline] : [])]) {
    line(`\n## ${p.name}`);
    line(
      `  acknowledged            ${p.load.ok} of ${p.load.sent} (non-2xx ${p.load.non2xx}, errors ${p.load.errors}, ` +
        `timeouts ${p.load.timeouts}) in ${round(p.load.durationS)} s = ${Math.round(p.load.ok / p.load.durationS)}/s`,
    );
    line(
      `  acknowledgement latency p50 ${p.load.latencyMs.p50} ms, p90 ${p.load.latencyMs.p90} ms, ` +
        `p99 ${p.load.latencyMs.p99} ms, max ${p.load.latencyMs.max} ms`,
    );
    line(
      `  processed               ${p.drain.processed} of ${p.drain.stored} stored (failed ${p.drain.failed}) ` +
        `in ${round(p.drain.drainS)} s = ${Math.round(p.drain.processedPerSecond)}/s`,
    );
    line(
      `  processing lag          p50 ${Math.round(p.drain.lagMs.p50)} ms, p99 ${Math.round(p.drain.lagMs.p99)} ms, ` +
        `max ${Math.round(p.drain.lagMs.max)} ms`,
    );
    line(`  lost / duplicated       ${p.lost} / ${p.duplicated}`);
    if (p.backlog) line(`  backlog (queued) max    ${p.backlog.maxQueued}`);
    if (p.waits) {
      line(
        `  Postgres sessions wait  ${Object.entries(p.waits)
          .map(([wait, count]) => `${wait} ${count}`)
          .join(", ")} (active sessions summed over 1 s samples)`,
      );
    }
    if (p.statements) {
      line(`  database time per delivery (pg_stat_statements; calls, ms, share of the time):`);
      for (const cost of p.statements) {
        line(
          `    ${round(cost.callsPerDelivery, 2).toString().padStart(6)}  ${round(cost.msPerDelivery, 3)
            .toString()
            .padStart(7)} ms  ${Math.round(cost.share * 100)
            .toString()
            .padStart(3)}%  ${cost.query}`,
        );
      }
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
  const tunedBurst = phases.find((p) => p.name.startsWith("burst"));
  if (tunedBurst && baseline) {
    line(
      `\n## Ratio: burst drain ${Math.round(tunedBurst.drain.processedPerSecond)}/s now vs ` +
        `${round(baseline.drain.processedPerSecond, 2)}/s with one job per fetch = ` +
        `${Math.round(tunedBurst.drain.processedPerSecond / Math.max(0.01, baseline.drain.processedPerSecond))}×`,
    );
  }
  line(
    `\n## Targets (load average at the end ${loadavg()
      .map((v) => round(v, 2))
      .join(" / ")})`,
  );
  const check = (ok: boolean, text: string) => line(`  ${ok ? "PASS" : "FAIL"}  ${text}`);
  const sustained = phases.find((p) => p.name.startsWith("sustained"));
  if (sustained) {
    const ackRate = sustained.load.ok / sustained.load.durationS;
    if (rate >= TARGETS.ackPerSecond) {
      check(
        ackRate >= TARGETS.ackPerSecond * 0.98,
        `sustained ≥ ${TARGETS.ackPerSecond}/s acknowledged (${Math.round(ackRate)}/s)`,
      );
    } else {
      line(`  –     sustained ≥ ${TARGETS.ackPerSecond}/s acknowledged: not judged at --rate ${rate}`);
    }
    check(
      sustained.load.latencyMs.p99 < TARGETS.ackP99Ms,
      `acknowledgement p99 < ${TARGETS.ackP99Ms} ms (${sustained.load.latencyMs.p99} ms)`,
    );
    check(
      sustained.drain.lagMs.p99 < TARGETS.lagP99S * 1000,
      `processing lag p99 < ${TARGETS.lagP99S} s (${round(sustained.drain.lagMs.p99 / 1000, 2)} s)`,
    );
  }
  for (const p of phases) check(p.lost === 0 && p.duplicated === 0, `${p.name}: zero lost, zero duplicated`);
  return lines;
}

let cluster: Cluster | undefined;

async function main(): Promise<void> {
  const startedAt = new Date();
  say(runHeader("webhooks", startedAt));
  say(`  burst ${burst} at ${connections} connections; sustained ${rate}/s for ${seconds} s`);
  const log = pino({ level: values["log-level"] }, pino.destination(2));
  cluster = await startCluster(
    log,
    values.statements
      ? {
          postgresFlags: [
            "-c",
            "shared_preload_libraries=pg_stat_statements",
            "-c",
            "pg_stat_statements.track=all",
          ],
        }
      : {},
  );
  try {
    const env = Object.fromEntries(
      values.env
        .split(",")
        .filter(Boolean)
        .map((pair) => pair.split("=") as [string, string]),
    );
    if (Object.keys(env).length > 0) say(`  app settings: ${JSON.stringify(env)}`);
    const phases = await runApp(cluster, "now", env, async (engine, deliveries) => [
      await burstPhase(`burst of ${burst}`, engine, deliveries, 300),
      await sustainedPhase(engine, deliveries),
    ]);
    const baseline = values.baseline
      ? (
          await runApp(
            cluster,
            "baseline",
            { ...env, WEBHOOK_BATCH_SIZE: "1" },
            async (engine, deliveries) => [
              await burstPhase(
                `baseline: burst of ${burst}, one job per fetch (watched for ${values["baseline-window-seconds"]} s)`,
                engine,
                deliveries,
                Number(values["baseline-window-seconds"]),
              ),
            ],
          )
        )[0]
      : undefined;
    const lines = report(phases, baseline);
    for (const text of lines) say(text);
    const file = await saveRawFigures("webhooks", startedAt, { phases, baseline });
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
  (seconds * 3 + 900) * 1000,
).unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
