/**
 * What the backfill benchmarks (bench/backfill.ts, bench/first-insight.ts) do around an
 * installation's first backfill: the installation stored with its settings before GitHub tells
 * the app about it, the installation.created delivery, what GitHub charged from then on, and a
 * hard time limit for the whole run.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { installations } from "../src/db/schema/index.js";
import type { InstallationSettings } from "../src/settings.js";
import { deliver, type Engine } from "./engine.js";
import type { FakeGitHubStats } from "../test/support/fake-github/server.js";
import type { FakeProcess } from "./fake-process.js";
import type { SeededInstallation } from "./protocol.js";

export interface Units {
  graphqlCalls: number;
  graphqlPoints: number;
  restCalls: number;
  /** What the installation's hourly buckets were charged: REST core calls + GraphQL points. */
  budgetCore: number;
  budgetGraphql: number;
  byRoute: Record<string, number>;
  /** GraphQL queries and their points by operation name. */
  byOperation: Record<string, { queries: number; points: number; nodes: number }>;
  /** Each GraphQL query in order: name, points, objects, and when GitHub got it and answered (ms). */
  queries: FakeGitHubStats["operations"];
}

export interface Budget {
  core: number;
  graphql: number;
}

/**
 * Stores the installation with `settings` (upsertInstallation keeps stored settings), resets the
 * fake's counters, and delivers installation.created. Returns the instant just before the
 * delivery and the installation's budget used before it.
 */
export async function installApp(
  fake: FakeProcess,
  engine: Engine,
  installation: SeededInstallation,
  settings: InstallationSettings,
): Promise<{ budgetBefore: Budget; startedAt: Date; started: number }> {
  await engine.database.db.insert(installations).values({
    id: installation.id,
    accountId: 0,
    accountLogin: installation.login,
    accountType: "Organization",
    settings,
  });
  const hook = await fake.request({ type: "installation-created", installationId: installation.id });
  // Another run may have used the same fake: count only what is spent from here on.
  await fake.request({ type: "reset-stats" });
  const budgetBefore = await fake.request({ type: "budget", installationId: installation.id });
  const startedAt = new Date();
  const started = performance.now();
  await deliver(engine, hook);
  return { budgetBefore, startedAt, started };
}

/** Calls since the last stats reset, and what the installation's buckets were charged since `before`. */
export async function spentSince(fake: FakeProcess, installationId: number, before: Budget): Promise<Units> {
  const stats = await fake.request({ type: "stats" });
  const budget = await fake.request({ type: "budget", installationId });
  const byOperation: Units["byOperation"] = {};
  for (const { name, cost, nodes } of stats.operations) {
    const entry = (byOperation[name] ??= { queries: 0, points: 0, nodes: 0 });
    entry.queries++;
    entry.points += cost;
    entry.nodes += nodes;
  }
  return {
    graphqlCalls: stats.graphql,
    graphqlPoints: stats.graphqlPoints,
    restCalls: stats.rest,
    budgetCore: budget.core - before.core,
    budgetGraphql: budget.graphql - before.graphql,
    byRoute: stats.byRoute,
    byOperation,
    queries: stats.operations,
  };
}

/**
 * Whatever happens, the run ends after `limitMs`: `stop` (say, the Postgres cluster) gets 15 s,
 * then the process exits with 2. The fake GitHub child exits when this process goes away (IPC
 * disconnect).
 */
export function exitAfter(limitMs: number, stop: () => Promise<void> | undefined): void {
  setTimeout(() => {
    console.error("bench: hard time limit reached; stopping Postgres and exiting");
    const stopped = stop() ?? Promise.resolve();
    void Promise.race([stopped, sleep(15_000)]).finally(() => process.exit(2));
  }, limitMs).unref();
}
