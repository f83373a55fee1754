/**
 * `npm run bench:first-insight`: time to first insight (issue 14 §3). From the installation event
 * to every repository's last 30 days stored, for an org of many small repositories and a few busy
 * ones, at the fake GitHub's latency model; beside the backfill without first windows
 * (BACKFILL_FIRST_WINDOW_DAYS=0), the same org on a fresh database, in the same run.
 *
 *   npm run bench:first-insight
 *   npm run bench:first-insight -- --repos 50 --window-prs 2500 --deeper 3
 *   npm run bench:first-insight -- --timeline --no-baseline   (each query's start and end; no baseline)
 *
 * Per run: a fresh fake GitHub child process (same seed, so the same org), a fresh database, the
 * engine (bench/engine.ts) with the installation's default depth "full"; installation.created is
 * delivered and the clock runs until, in every repository, the stored pull requests created in the
 * last 30 days are as many as GitHub holds. Then the fake's counters are read and the run stops:
 * deeper history is bench:backfill's subject. Figures go to stdout and bench/out/*.json.
 */
import { cpus, loadavg } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import pino from "pino";
import { countStillArriving } from "../src/db/queries/repositories.js";
import { defaultInstallationSettings } from "../src/settings.js";
import { settingsFrom, startCluster, startEngine, type Cluster, type Engine } from "./engine.js";
import { startFakeProcess } from "./fake-process.js";
import { exitAfter, installApp, spentSince, type Units } from "./installation-run.js";
import { runHeader, saveRawFigures } from "./report.js";

const { values } = parseArgs({
  options: {
    repos: { type: "string", default: "50" },
    /** Pull requests opened in the last 30 days across the org (about: the seeder draws their times). */
    "window-prs": { type: "string", default: "2500" },
    /** Deeper history, in windows: 3 makes the org's history 120 days, 4 times its last 30 days. */
    deeper: { type: "string", default: "3" },
    "latency-ms": { type: "string", default: "300" },
    "per-node-ms": { type: "string", default: "2.1" },
    /** A run that has not stored every window by then is reported as unfinished. */
    "run-minutes": { type: "string", default: "5" },
    "log-level": { type: "string", default: "warn" },
    /** Print each GraphQL query of the first-windows run: when it reached GitHub and was answered. */
    timeline: { type: "boolean", default: false },
    /** Skip the baseline run (2.5 minutes), when trying a change to the first windows. */
    "no-baseline": { type: "boolean", default: false },
    /** More settings of the app under test, as environment variables: KEY=VALUE,KEY=VALUE. */
    env: { type: "string", default: "" },
  },
});

const APP_ID = 1;
const SEED = 14;
const WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;
const TARGET_SECONDS = 30;
const TARGET_POINTS_PER_PR = 0.04;
/** Fine enough against runs of tens of seconds, light on the database the engine is writing. */
const POLL_MS = 250;
const PROGRESS_MS = 15_000;

const settings = settingsFrom(values.env);
const repoCount = Number(values.repos);
const windowPrs = Number(values["window-prs"]);
const deeper = Number(values.deeper);
const latency = { baseMs: Number(values["latency-ms"]), perNodeMs: Number(values["per-node-ms"]) };
const runMs = Number(values["run-minutes"]) * 60_000;

interface RunResult {
  name: string;
  /** BACKFILL_FIRST_WINDOW_DAYS of the engine. */
  firstWindowDays: number;
  finished: boolean;
  /** Pull requests GitHub holds from the last 30 days, all repositories. */
  windowPrs: number;
  /** From the delivery to every window stored (or to the run's limit). */
  seconds: number;
  /** To half of the windows' pull requests stored, and to the first repository's window complete. */
  halfSeconds: number | null;
  firstRepoSeconds: number | null;
  /** Pull requests stored by then, the windows' and deeper ones. */
  prsStored: number;
  stillArriving: { firstWindows: number; deeper: number };
  units: Units;
  pointsPerWindowPr: number;
  /** What the latency model made the GraphQL queries wait, summed (queries may overlap). */
  modelledLatencySeconds: number;
  loadAverage: number[];
}

const say = (line: string) => console.log(line);
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/**
 * Pull requests of each repository over the whole history: Zipf's law (the k-th busiest has 1/k of
 * the busiest's), so a few repositories are busy and most are small, as in most orgs. Their
 * creation times are spread evenly over (1 + deeper) windows, so about windowPrs fall in the last.
 */
function spread(repos: number, prsInWindow: number, windows: number): number[] {
  const weights = Array.from({ length: repos }, (_, k) => 1 / (k + 1));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight) => Math.max(1, Math.round((prsInWindow * windows * weight) / total)));
}

/** Stored pull requests created since `since`, by repository. */
async function storedSince(engine: Engine, installationId: number, since: Date) {
  const rows = await engine.database.sql<{ repoId: number; prs: number }[]>`
    select repo_id::float8 as "repoId", count(*)::int as prs from pull_requests
    where installation_id = ${installationId} and created_at >= ${since.toISOString()}::timestamptz
    group by repo_id`;
  return new Map(rows.map((row) => [row.repoId, row.prs]));
}

async function run(cluster: Cluster, name: string, firstWindowDays: number): Promise<RunResult> {
  const windows = 1 + deeper;
  const prsByRepo = spread(repoCount, windowPrs, windows);
  say(`\n## ${name}: BACKFILL_FIRST_WINDOW_DAYS=${firstWindowDays}`);
  const fake = await startFakeProcess({
    seed: SEED,
    appId: APP_ID,
    latency,
    orgs: [
      {
        login: "bench-first",
        repos: repoCount,
        prsPerRepo: 0,
        prsByRepo,
        spanDays: WINDOW_DAYS * windows,
      },
    ],
    maxSeconds: Math.ceil(runMs / 1000) + 300,
  });
  let engine: Engine | undefined;
  try {
    const installation = fake.installations[0]!;
    engine = await startEngine({
      databaseUrl: await cluster.createDatabase(`bench_first_${firstWindowDays}_${Date.now()}`),
      githubHost: fake.host,
      appId: APP_ID,
      logLevel: values["log-level"],
      env: { ...settings, BACKFILL_FIRST_WINDOW_DAYS: String(firstWindowDays) },
    });
    const { budgetBefore, startedAt, started } = await installApp(fake, engine, installation, {
      ...defaultInstallationSettings,
      defaultSyncDepth: "full",
    });
    // The window as of the delivery; the engine's starts when it counts, a moment later, and the
    // one older pull request of each first page covers the difference.
    const since = new Date(startedAt.getTime() - WINDOW_DAYS * DAY_MS);
    const truth = new Map(
      Object.entries(
        await fake.request({
          type: "created-since",
          installationId: installation.id,
          since: since.toISOString(),
        }),
      ).map(([id, prs]) => [Number(id), prs]),
    );
    const inWindow = [...truth.values()].reduce((sum, prs) => sum + prs, 0);
    say(
      `  ${installation.repos.length} repositories, ${installation.repos.reduce((sum, repo) => sum + repo.prs, 0)} ` +
        `pull requests, ${inWindow} of them in the last ${WINDOW_DAYS} days (busiest repository ` +
        `${Math.max(...truth.values())}, ${[...truth.values()].filter((prs) => prs <= 20).length} with 20 or fewer)`,
    );

    const elapsed = () => (performance.now() - started) / 1000;
    let halfSeconds: number | null = null;
    let firstRepoSeconds: number | null = null;
    let finished = false;
    let lastProgress = performance.now();
    const deadline = Date.now() + runMs;
    while (Date.now() < deadline) {
      const stored = await storedSince(engine, installation.id, since);
      const done = [...truth].filter(([id, prs]) => (stored.get(id) ?? 0) >= prs).length;
      const prs = [...stored.values()].reduce((sum, count) => sum + count, 0);
      if (
        firstRepoSeconds === null &&
        [...truth].some(([id, prs]) => prs > 0 && (stored.get(id) ?? 0) >= prs)
      )
        firstRepoSeconds = elapsed();
      if (halfSeconds === null && prs * 2 >= inWindow) halfSeconds = elapsed();
      if (done === truth.size) {
        finished = true;
        break;
      }
      if (performance.now() - lastProgress >= PROGRESS_MS) {
        lastProgress = performance.now();
        say(
          `  … ${round(elapsed(), 1)} s: ${prs}/${inWindow} window PRs, ${done}/${truth.size} windows complete`,
        );
      }
      await sleep(POLL_MS);
    }
    const seconds = elapsed();
    const units = await spentSince(fake, installation.id, budgetBefore);
    const stillArriving = await countStillArriving(engine.database.db, installation.id);
    const [all] = await engine.database.sql<{ prs: number }[]>`
      select count(*)::int as prs from pull_requests where installation_id = ${installation.id}`;
    const nodes = Object.values(units.byOperation).reduce((sum, entry) => sum + entry.nodes, 0);
    return {
      name,
      firstWindowDays,
      finished,
      windowPrs: inWindow,
      seconds,
      halfSeconds,
      firstRepoSeconds,
      prsStored: all!.prs,
      stillArriving: { firstWindows: stillArriving.firstWindows, deeper: stillArriving.deeper },
      units,
      pointsPerWindowPr: units.graphqlPoints / Math.max(1, inWindow),
      modelledLatencySeconds: (units.graphqlCalls * latency.baseMs + nodes * latency.perNodeMs) / 1000,
      loadAverage: loadavg().map((value) => round(value)),
    };
  } finally {
    await engine?.stop();
    await fake.stop();
  }
}

function report(baseline: RunResult | undefined, feature: RunResult): string[] {
  const runs = baseline ? [baseline, feature] : [feature];
  const lines: string[] = [];
  const line = (text = "") => lines.push(text);
  const seconds = (value: number | null) => (value === null ? "–" : `${round(value, 1)} s`);
  line("\n# Results");
  line(
    `  ${repoCount} repositories, ${feature.windowPrs} pull requests in the last ${WINDOW_DAYS} days; ` +
      `latency ${latency.baseMs} ms + ${latency.perNodeMs} ms/object`,
  );
  const row = (label: string, of: (r: RunResult) => string) =>
    line(`  ${label.padEnd(34)}${runs.map((r) => of(r).padEnd(26)).join("")}`.trimEnd());
  row("", (r) => `${r.name} (${r.firstWindowDays})`);
  row("every window stored", (r) => (r.finished ? seconds(r.seconds) : `NOT within ${seconds(r.seconds)}`));
  row("half the windows' PRs stored", (r) => seconds(r.halfSeconds));
  row("first repository's window stored", (r) => seconds(r.firstRepoSeconds));
  row("GraphQL queries by then", (r) => String(r.units.graphqlCalls));
  row("GraphQL points by then", (r) => String(r.units.graphqlPoints));
  row("points per window PR", (r) => String(round(r.pointsPerWindowPr, 4)));
  row("REST calls by then", (r) => String(r.units.restCalls));
  row("modelled GitHub latency (sum)", (r) => seconds(r.modelledLatencySeconds));
  row("PRs stored by then (with deeper)", (r) => String(r.prsStored));
  // What the metrics page's still-arriving line reads then (without first windows nothing marks a
  // window in, so every unfinished repository counts as one).
  row(
    "page: windows / deeper arriving",
    (r) => `${r.stillArriving.firstWindows} / ${r.stillArriving.deeper}`,
  );
  row("load average at the moment", (r) => r.loadAverage.join(" / "));
  for (const r of runs) {
    line(`  ${r.name}, by query:`);
    for (const [name, e] of Object.entries(r.units.byOperation)) {
      const modelled = (e.queries * latency.baseMs + e.nodes * latency.perNodeMs) / 1000;
      line(
        `    ${name.padEnd(24)} ${String(e.queries).padStart(4)}× ${String(e.points).padStart(5)} points ` +
          `${String(e.nodes).padStart(7)} objects ${String(round(modelled, 1)).padStart(7)} s modelled latency`,
      );
    }
  }
  if (baseline) {
    line(
      `  ratio baseline / first windows: ${round(baseline.seconds / feature.seconds, 2)}× the time, ` +
        `${round(baseline.pointsPerWindowPr / feature.pointsPerWindowPr, 2)}× the points per window PR` +
        (baseline.finished ? "" : " (the baseline did not finish: its time is a lower bound)"),
    );
  }
  if (values.timeline) timeline(feature).forEach((text) => line(text));

  line("\n## Targets");
  const check = (ok: boolean, text: string) => line(`  ${ok ? "PASS" : "FAIL"}  ${text}`);
  check(
    feature.finished && feature.seconds <= TARGET_SECONDS,
    `every repository's last ${WINDOW_DAYS} days within ${TARGET_SECONDS} s of the installation ` +
      `(${seconds(feature.seconds)})`,
  );
  check(
    feature.finished && feature.pointsPerWindowPr <= TARGET_POINTS_PER_PR,
    `≤ ${TARGET_POINTS_PER_PR} points per pull request of the windows (${round(feature.pointsPerWindowPr, 4)})`,
  );
  return lines;
}

/**
 * The first-windows run's queries as GitHub saw them, by arrival: start and end (s from the
 * delivery's stats reset), the gap since the previous arrival, and what each asked for. Two lanes
 * that both wait show as gaps of a second (the installation's GraphQL pacing) or as one query alone.
 */
function timeline(feature: RunResult): string[] {
  const lines = ["\n## Timeline (first windows)", "  start    end   gap  in flight  query"];
  const queries = [...feature.units.queries].sort((a, b) => a.startMs - b.startMs);
  let previous = 0;
  for (const query of queries) {
    const during = queries.filter((other) => other.startMs <= query.startMs && other.endMs > query.startMs);
    const at = (ms: number) => (ms / 1000).toFixed(2).padStart(6);
    lines.push(
      `  ${at(query.startMs)} ${at(query.endMs)} ${at(query.startMs - previous)} ${String(during.length).padStart(10)}  ` +
        `${query.name} ${query.cost} pt ${query.nodes} objects`,
    );
    previous = query.startMs;
  }
  return lines;
}

/** Set once Postgres runs, so that even the hard time limit stops it. */
let running: Cluster | undefined;

async function main(): Promise<void> {
  const startedAt = new Date();
  const log = pino({ level: values["log-level"] }, pino.destination(2));
  say(runHeader("first-insight", startedAt));
  const cluster = await startCluster(log);
  running = cluster;
  let baseline: RunResult | undefined;
  let feature: RunResult;
  try {
    if (!values["no-baseline"]) baseline = await run(cluster, "baseline", 0);
    feature = await run(cluster, "first windows", WINDOW_DAYS);
  } finally {
    running = undefined;
    await cluster.stop();
  }
  for (const text of report(baseline, feature)) say(text);
  const file = await saveRawFigures("first-insight", startedAt, {
    cores: cpus().length,
    latency,
    results: baseline ? [baseline, feature] : [feature],
  });
  say(`\n(raw figures: ${file})`);
}

// Whatever happens, the run ends: both runs' limits plus time to seed, start and clean up.
exitAfter(runMs * 2 + 5 * 60_000, () => running?.stop());

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
