/**
 * `npm run bench:backfill`: full-history backfill cost and speed of the real engine against the
 * fake GitHub with a latency model, beside a naive REST client on the same fake.
 *
 *   npm run bench:backfill                                   # both scenarios (10k-PR repo, 100k-PR org)
 *   npm run bench:backfill -- --scenario repo --prs 2000     # smaller runs
 *   npm run bench:backfill -- --scenario org --repos 50 --prs 100000 --org-latency-ms 100
 *
 * Per scenario: a fresh database, a fresh fake GitHub child process (seeded, latency model on),
 * the engine (bench/engine.ts); the installation's default sync depth is "full" before
 * installation.created is delivered; the clock runs until every repository is `complete`. Then one
 * delta sync of an unchanged repository is counted. Figures go to stdout and bench/out/*.json.
 */
import { cpus, loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { and, eq, sql } from "drizzle-orm";
import pino from "pino";
import { repositories } from "../src/db/schema/index.js";
import { enqueue } from "../src/queue/boss.js";
import { defaultInstallationSettings } from "../src/settings.js";
import { runBaseline, type BaselineResult } from "./baseline.js";
import { startCluster, startEngine, type Cluster, type Engine } from "./engine.js";
import { startFakeProcess, type FakeProcess } from "./fake-process.js";
import { exitAfter, installApp, spentSince, type Units } from "./installation-run.js";
import type { SeededInstallation } from "./protocol.js";
import { runHeader, saveRawFigures } from "./report.js";

const { values } = parseArgs({
  options: {
    scenario: { type: "string", default: "all" },
    /** PRs of the repo scenario's repository, or of the whole org in the org scenario. */
    prs: { type: "string" },
    repos: { type: "string", default: "50" },
    /** Base latency per request, every scenario. */
    "latency-ms": { type: "string", default: "300" },
    "per-node-ms": { type: "string", default: "2.1" },
    /** Base latency of the org scenario only, when the full model would not fit the time limit. */
    "org-latency-ms": { type: "string" },
    "baseline-prs": { type: "string", default: "300" },
    concurrency: { type: "string", default: "2" },
    /** A scenario that has not finished by then is reported as unfinished. */
    "scenario-minutes": { type: "string", default: "25" },
    "log-level": { type: "string", default: "warn" },
  },
});

const APP_ID = 1;
const SEED = 42;
/** GitHub's hourly budget of one installation without enterprise or repository bonuses. */
const HOURLY_BUDGET = 5000;
const TARGET_UNITS_PER_PR = 0.05;
const TARGET_RATIO = 60;
const TARGET_RSS_MB = 300;
/** A chained slice starts within seconds of the last: the backfill never idles (issue 9 §7). */
const TARGET_IDLE_SHARE = 0.05;
const RSS_SAMPLE_MS = 200;
const POLL_MS = 1000;
const PROGRESS_MS = 30_000;
const MB = 1024 * 1024;

const scenario = values.scenario;
if (!["repo", "org", "all"].includes(scenario)) throw new Error("--scenario must be repo, org or all");
const baseMs = Number(values["latency-ms"]);
const perNodeMs = Number(values["per-node-ms"]);
const concurrency = Number(values.concurrency);
const scenarioMs = Number(values["scenario-minutes"]) * 60_000;

interface ScenarioResult {
  name: string;
  repos: number;
  prsOnGitHub: number;
  latency: { baseMs: number; perNodeMs: number };
  calibration: FakeProcess["calibration"];
  finished: boolean;
  prsStored: number;
  reviewsStored: number;
  commitsStored: number;
  wallMs: number;
  prsPerMinute: number;
  units: Units;
  unitsPerPr: number;
  pointsPer100Prs: number;
  peakRssMb: number;
  startRssMb: number;
  /** Backfill jobs (20 s slices), and the time during the run when none of them was running. */
  idle: { jobs: number; totalS: number; longestS: number };
  /** 1, 5 and 15-minute load averages when the backfill finished (other work on the machine shows here). */
  loadAverage: number[];
  delta?: { repo: string; graphqlCalls: number; graphqlPoints: number; restCalls: number };
  baseline?: BaselineResult;
}

const say = (line: string) => console.log(line);
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** Samples this process's resident set (the app's, the fake runs elsewhere) every 200 ms. */
function sampleRss() {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, RSS_SAMPLE_MS);
  return {
    stop: () => {
      clearInterval(timer);
      return { startMb: start / MB, peakMb: Math.max(peak, process.memoryUsage().rss) / MB };
    },
  };
}

async function countRows(engine: Engine, installationId: number) {
  const [row] = await engine.database.sql<{ prs: number; reviews: number; commits: number }[]>`
    select (select count(*)::int from pull_requests where installation_id = ${installationId}) as prs,
           (select count(*)::int from reviews where installation_id = ${installationId}) as reviews,
           (select count(*)::int from commits where installation_id = ${installationId}) as commits`;
  return row!;
}

async function repoStates(engine: Engine, installationId: number) {
  return engine.database.db
    .select({ status: repositories.syncStatus, count: sql<number>`count(*)::int` })
    .from(repositories)
    .where(eq(repositories.installationId, installationId))
    .groupBy(repositories.syncStatus);
}

/** No job of any queue waiting or running (jobs deferred to later do not count). */
async function drain(engine: Engine, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const [row] = await engine.database.sql<{ pending: number }[]>`
      select count(*)::int as pending from pgboss.job
      where state in ('created', 'retry', 'active') and start_after <= now()`;
    if (row!.pending === 0) return;
    await sleep(500);
  }
}

/** installation.created with the depth set to "full" beforehand; the clock stops when all are complete. */
async function backfill(
  name: string,
  fake: FakeProcess,
  engine: Engine,
  installation: SeededInstallation,
  latency: ScenarioResult["latency"],
): Promise<ScenarioResult> {
  // 1. The installation exists with a full-history default before GitHub tells the app about it;
  //    the baseline ran on the same installation, so only what is spent from the delivery counts.
  const prsOnGitHub = installation.repos.reduce((sum, repo) => sum + repo.prs, 0);
  const rss = sampleRss();
  const { budgetBefore, startedAt, started } = await installApp(fake, engine, installation, {
    ...defaultInstallationSettings,
    defaultSyncDepth: "full",
  });

  // 2. Then watch the repositories until every one is complete.
  const deadline = Date.now() + scenarioMs;
  let finished = false;
  let lastProgress = performance.now();
  while (Date.now() < deadline) {
    const states = await repoStates(engine, installation.id);
    const complete = states.find((s) => s.status === "complete")?.count ?? 0;
    const failed = states.find((s) => s.status === "error")?.count ?? 0;
    if (failed > 0) throw new Error(`${failed} repositories ended in error`);
    if (complete === installation.repos.length) {
      finished = true;
      break;
    }
    if (performance.now() - lastProgress >= PROGRESS_MS) {
      lastProgress = performance.now();
      const rows = await countRows(engine, installation.id);
      const minutes = (performance.now() - started) / 60_000;
      say(
        `  … ${name}: ${rows.prs} PRs stored, ${complete}/${installation.repos.length} repos complete, ` +
          `${Math.round(rows.prs / minutes)} PRs/min, states ${states.map((s) => `${s.status}=${s.count}`).join(" ")}`,
      );
    }
    await sleep(POLL_MS);
  }
  const wallMs = performance.now() - started;
  const endedAt = new Date();
  const memory = rss.stop();
  const spent = await spentSince(fake, installation.id, budgetBefore);
  const rows = await countRows(engine, installation.id);
  const budgetUnits = spent.budgetCore + spent.budgetGraphql;
  return {
    name,
    repos: installation.repos.length,
    prsOnGitHub,
    latency,
    calibration: fake.calibration,
    finished,
    prsStored: rows.prs,
    reviewsStored: rows.reviews,
    commitsStored: rows.commits,
    wallMs,
    prsPerMinute: rows.prs / (wallMs / 60_000),
    units: spent,
    unitsPerPr: budgetUnits / Math.max(1, rows.prs),
    pointsPer100Prs: (spent.graphqlPoints / Math.max(1, rows.prs)) * 100,
    peakRssMb: memory.peakMb,
    startRssMb: memory.startMb,
    idle: await backfillIdle(engine, startedAt, endedAt),
    loadAverage: loadavg().map((value) => round(value)),
  };
}

/** The share of the wall time no backfill slice was running. */
const idleShare = (r: ScenarioResult) => r.idle.totalS / (r.wallMs / 1000);

/**
 * Stretches of the run in which no backfill job was running although the backfill was not done:
 * time spent waiting for pg-boss to hand out the next slice.
 */
async function backfillIdle(engine: Engine, from: Date, to: Date) {
  // Epoch milliseconds: drizzle's driver leaves timestamps as text on the shared postgres.js client.
  const jobs = await engine.database.sql<{ started: number; ended: number | null }[]>`
    select (extract(epoch from started_on) * 1000)::float8 as started,
           (extract(epoch from completed_on) * 1000)::float8 as ended
    from pgboss.job where name = 'backfill' and started_on is not null order by started_on`;
  let cursor = from.getTime();
  let totalMs = 0;
  let longestMs = 0;
  for (const job of jobs) {
    const gap = job.started - cursor;
    if (gap > 0) {
      totalMs += gap;
      longestMs = Math.max(longestMs, gap);
    }
    cursor = Math.max(cursor, job.ended ?? to.getTime());
  }
  const tail = to.getTime() - cursor;
  if (tail > 0) {
    totalMs += tail;
    longestMs = Math.max(longestMs, tail);
  }
  return { jobs: jobs.length, totalS: totalMs / 1000, longestS: longestMs / 1000 };
}

/** One delta sync of a repository nothing changed in since its backfill: how many queries. */
async function deltaOfUnchangedRepo(fake: FakeProcess, engine: Engine, installation: SeededInstallation) {
  const repo = installation.repos[0]!;
  await drain(engine, Date.now() + 120_000);
  await fake.request({ type: "reset-stats" });
  const jobId = await enqueue(engine.boss, "deltaSync", {
    installationId: installation.id,
    repoIds: [repo.id],
  });
  if (!jobId) throw new Error("delta sync was not queued");
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const [job] = await engine.database.sql<{ state: string }[]>`
      select state from pgboss.job where id = ${jobId}`;
    if (job?.state === "completed") break;
    if (job?.state === "failed") throw new Error("delta sync failed");
    await sleep(200);
  }
  const [stored] = await engine.database.db
    .select({ status: repositories.syncStatus })
    .from(repositories)
    .where(and(eq(repositories.id, repo.id), eq(repositories.installationId, installation.id)));
  const stats = await fake.request({ type: "stats" });
  return {
    repo: `${repo.fullName} (${stored?.status ?? "?"})`,
    graphqlCalls: stats.graphql,
    graphqlPoints: stats.graphqlPoints,
    restCalls: stats.rest,
  };
}

async function runScenario(
  cluster: Cluster,
  name: "repo" | "org",
  shape: { repos: number; prsPerRepo: number; latency: ScenarioResult["latency"] },
): Promise<ScenarioResult> {
  say(
    `\n## ${name}: ${shape.repos} repos × ${shape.prsPerRepo} PRs, latency ${shape.latency.baseMs} ms + ` +
      `${shape.latency.perNodeMs} ms/node`,
  );
  const fake = await startFakeProcess({
    seed: SEED,
    appId: APP_ID,
    latency: shape.latency,
    orgs: [{ login: `bench-${name}`, repos: shape.repos, prsPerRepo: shape.prsPerRepo }],
    maxSeconds: Math.ceil(scenarioMs / 1000) + 900,
  });
  let engine: Engine | undefined;
  try {
    const installation = fake.installations[0]!;
    const { nodes, modelledMs, points } = fake.calibration;
    say(
      `  fake GitHub pid ${fake.pid} seeded in ${Math.round(fake.seedMs)} ms; a 50-PR backfill page = ` +
        `${nodes} objects → ${Math.round(modelledMs)} ms modelled latency, ${points} points`,
    );

    // The naive REST client first, on the same fake and latency, before the engine adds load.
    let baseline: BaselineResult | undefined;
    if (name === "repo" || scenario === "org") {
      const repo = installation.repos[0]!;
      baseline = await runBaseline({
        url: fake.url,
        appId: APP_ID,
        installationId: installation.id,
        repoFullName: repo.fullName,
        sample: Math.min(Number(values["baseline-prs"]), repo.prs),
        concurrency,
      });
      say(
        `  naive REST: ${baseline.prs} PRs, ${baseline.restCalls} calls (${round(baseline.callsPerPr)}/PR), ` +
          `${Math.round(baseline.prsPerMinute)} PRs/min`,
      );
    }

    engine = await startEngine({
      databaseUrl: await cluster.createDatabase(`bench_${name}_${Date.now()}`),
      githubHost: fake.host,
      appId: APP_ID,
      logLevel: values["log-level"],
    });
    const result = await backfill(name, fake, engine, installation, shape.latency);
    if (baseline) result.baseline = baseline;
    if (result.finished) result.delta = await deltaOfUnchangedRepo(fake, engine, installation);
    return result;
  } finally {
    await engine?.stop();
    await fake.stop();
  }
}

function report(results: ScenarioResult[]): string[] {
  const lines: string[] = [];
  const line = (text = "") => lines.push(text);
  const baseline = results.find((r) => r.baseline)?.baseline;
  line("\n# Results");
  for (const r of results) {
    line(
      `\n## ${r.name}: ${r.repos} repos, ${r.prsOnGitHub} PRs on GitHub${r.finished ? "" : " — DID NOT FINISH"}`,
    );
    line(`  latency model           ${r.latency.baseMs} ms + ${r.latency.perNodeMs} ms/object`);
    line(`  PRs stored              ${r.prsStored} (reviews ${r.reviewsStored}, commits ${r.commitsStored})`);
    line(`  wall time               ${round(r.wallMs / 1000, 1)} s`);
    line(`  PRs per minute          ${Math.round(r.prsPerMinute)}`);
    line(
      `  GitHub calls            ${r.units.graphqlCalls} GraphQL (${r.units.graphqlPoints} points), ${r.units.restCalls} REST`,
    );
    line(
      `  budget charged          ${r.units.budgetGraphql} GraphQL points + ${r.units.budgetCore} REST core = ` +
        `${r.units.budgetGraphql + r.units.budgetCore} units`,
    );
    line(`  units per PR            ${round(r.unitsPerPr, 4)}`);
    line(
      `  sanity                  ${round(r.pointsPer100Prs, 2)} GraphQL points per 100 PRs ` +
        `(a 100-PR page costs 3 by GitHub's formula: 1 + 3 nested lists × 100, ÷ 100)`,
    );
    line(`  peak RSS (app process)  ${Math.round(r.peakRssMb)} MB (at start ${Math.round(r.startRssMb)} MB)`);
    line(
      `  backfill jobs           ${r.idle.jobs} (20 s slices); none running for ${round(r.idle.totalS, 1)} s ` +
        `of the wall time (${round(idleShare(r) * 100, 1)}%), longest gap ${round(r.idle.longestS, 1)} s`,
    );
    line(`  load average at the end ${r.loadAverage.join(" / ")} (1 / 5 / 15 min, ${cpus().length} cores)`);
    if (r.delta) {
      line(
        `  delta, unchanged repo   ${r.delta.graphqlCalls} GraphQL queries (${r.delta.graphqlPoints} points), ` +
          `${r.delta.restCalls} REST — ${r.delta.repo}`,
      );
    }
    line(`  REST by route           ${JSON.stringify(r.units.byRoute)}`);
  }
  if (baseline) {
    line(`\n## naive REST baseline (list + pull + reviews + commits per PR, concurrency ${concurrency})`);
    line(`  PRs                     ${baseline.prs}`);
    line(`  REST calls              ${baseline.restCalls} (${round(baseline.callsPerPr, 3)} per PR)`);
    line(`  wall time               ${round(baseline.wallMs / 1000, 1)} s`);
    line(`  PRs per minute          ${Math.round(baseline.prsPerMinute)}`);
    const calls100k = baseline.callsPerPr * 100_000;
    line(
      `  100,000 PRs would take  ${round(100_000 / baseline.prsPerMinute / 60, 1)} h of requests and ` +
        `${Math.round(calls100k)} calls = ${round(calls100k / HOURLY_BUDGET, 1)} hours of one installation's ` +
        `5,000/h budget (${calls100k <= HOURLY_BUDGET ? "fits" : "does not fit"} one hour)`,
    );
  }

  line("\n## Targets");
  const check = (ok: boolean | undefined, text: string) =>
    line(`  ${ok === undefined ? "n/a " : ok ? "PASS" : "FAIL"}  ${text}`);
  for (const r of results) {
    check(
      r.finished && r.unitsPerPr <= TARGET_UNITS_PER_PR,
      `${r.name}: ≤ ${TARGET_UNITS_PER_PR} units/PR (${round(r.unitsPerPr, 4)})`,
    );
    if (baseline) {
      const ratio = baseline.callsPerPr / r.unitsPerPr;
      check(
        r.finished && ratio >= TARGET_RATIO,
        `${r.name}: ≥ ${TARGET_RATIO}× cheaper than naive REST (${round(ratio, 1)}×)`,
      );
    }
    check(
      r.peakRssMb < TARGET_RSS_MB,
      `${r.name}: peak RSS < ${TARGET_RSS_MB} MB (${Math.round(r.peakRssMb)} MB)`,
    );
    check(
      r.finished && idleShare(r) < TARGET_IDLE_SHARE,
      `${r.name}: no backfill slice running < ${TARGET_IDLE_SHARE * 100}% of the wall time ` +
        `(${round(idleShare(r) * 100, 1)}%, ${round(r.idle.totalS, 1)} s of ${round(r.wallMs / 1000, 1)} s)`,
    );
    check(
      r.delta ? r.delta.graphqlCalls === 1 : undefined,
      `${r.name}: delta sync of an unchanged repo = 1 query (${r.delta?.graphqlCalls ?? "not run"})`,
    );
  }
  const org = results.find((r) => r.name === "org");
  const orgUnits = org ? org.units.budgetCore + org.units.budgetGraphql : undefined;
  check(
    org ? org.finished && org.prsStored >= 100_000 && orgUnits! <= HOURLY_BUDGET : undefined,
    `100,000-PR org within one hour's budget of one installation (≤ ${HOURLY_BUDGET} units): ` +
      (org
        ? `${orgUnits} units for ${org.prsStored} PRs, wall ${round(org.wallMs / 60_000, 1)} min`
        : "not run"),
  );
  return lines;
}

/** Set once Postgres runs, so that even the hard time limit stops it. */
let running: Cluster | undefined;

async function main(): Promise<void> {
  const startedAt = new Date();
  const log = pino({ level: values["log-level"] }, pino.destination(2));
  say(runHeader("backfill", startedAt));
  const cluster = await startCluster(log);
  running = cluster;
  const results: ScenarioResult[] = [];
  try {
    const latency = { baseMs, perNodeMs };
    if (scenario === "repo" || scenario === "all") {
      const prs = Number(values.prs ?? 10_000);
      results.push(await runScenario(cluster, "repo", { repos: 1, prsPerRepo: prs, latency }));
    }
    if (scenario === "org" || scenario === "all") {
      const repos = Number(values.repos);
      const prs = Number(values.prs ?? 100_000);
      const orgLatency =
        values["org-latency-ms"] === undefined
          ? latency
          : { ...latency, baseMs: Number(values["org-latency-ms"]) };
      results.push(
        await runScenario(cluster, "org", { repos, prsPerRepo: Math.ceil(prs / repos), latency: orgLatency }),
      );
    }
  } finally {
    running = undefined;
    await cluster.stop();
  }
  const lines = report(results);
  for (const text of lines) say(text);
  const file = await saveRawFigures("backfill", startedAt, { cores: cpus().length, results });
  say(`\n(raw figures: ${file})`);
}

// Whatever happens, the run ends: the slowest scenario's limit plus time to seed and clean up.
exitAfter(scenarioMs * 2 + 10 * 60_000, () => running?.stop());

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
