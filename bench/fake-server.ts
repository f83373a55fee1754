/**
 * The fake GitHub for benchmarks, in a process of its own so that its memory and CPU are not
 * counted as the app's. bench/fake-process.ts forks it with the options as JSON in argv[2]; it seeds
 * the orgs, reports "ready" over IPC, then answers requests (stats, budgets, webhook payloads).
 * It exits when the parent goes away, on "stop", or after maxSeconds at the latest.
 */
import { loadQuery } from "../src/github/queries.js";
import { buildWebhook, startFakeGitHub } from "../test/support/fake-github/index.js";
import { executeGraphql } from "../test/support/fake-github/graphql.js";
import type {
  FakeRequest,
  FakeServerOptions,
  FakeServerReady,
  RequestEnvelope,
  ResponseEnvelope,
  SeededInstallation,
} from "./protocol.js";

const options = JSON.parse(process.argv[2] ?? "{}") as FakeServerOptions;
const send = (message: FakeServerReady | ResponseEnvelope) => process.send?.(message);

const fake = await startFakeGitHub({ seed: options.seed, latency: options.latency });
const seedStart = performance.now();
const installations: SeededInstallation[] = options.orgs.map((org) => {
  const seeded = fake.world.seedOrg({
    login: org.login,
    repos: org.repos,
    prsPerRepo: org.prsPerRepo,
    ...(org.prsByRepo ? { prsByRepo: org.prsByRepo } : {}),
    ...(org.spanDays ? { spanDays: org.spanDays } : {}),
    appId: options.appId,
  });
  return {
    id: seeded.installation.id,
    login: org.login,
    repos: seeded.repos.map((repo) => ({
      id: repo.id,
      name: repo.name,
      fullName: `${repo.ownerLogin}/${repo.name}`,
      prs: fake.world.listPullRequests(repo.id).length,
    })),
  };
});
const seedMs = performance.now() - seedStart;

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await fake.close().catch(() => undefined);
  }
  process.exit(code);
}
process.on("disconnect", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
process.on("SIGINT", () => void stop(0));
setTimeout(() => {
  console.error(`fake-server: stopping after its ${options.maxSeconds} s limit`);
  void stop(3);
}, options.maxSeconds * 1000).unref();

async function answer(request: FakeRequest): Promise<unknown> {
  switch (request.type) {
    case "stats":
      return fake.stats.snapshot();
    case "reset-stats":
      fake.stats.reset();
      return null;
    case "budget":
      return {
        core: fake.rateLimits.peek(request.installationId, "core").used,
        graphql: fake.rateLimits.peek(request.installationId, "graphql").used,
      };
    case "installation-created":
      return buildWebhook(
        fake.world,
        "installation",
        "created",
        { installationId: request.installationId },
        fake.urls,
      );
    case "pull-request-webhooks": {
      const seeded = installations.find((installation) => installation.id === request.installationId);
      const prs = (seeded?.repos ?? []).flatMap((repo) => fake.world.listPullRequests(repo.id));
      return prs
        .slice(0, request.limit)
        .map((pr) => buildWebhook(fake.world, "pull_request", request.action, { prId: pr.id }, fake.urls));
    }
    case "created-since": {
      const seeded = installations.find((installation) => installation.id === request.installationId);
      const since = Date.parse(request.since);
      return Object.fromEntries(
        (seeded?.repos ?? []).map((repo) => [
          repo.id,
          fake.world.listPullRequests(repo.id).filter((pr) => Date.parse(pr.createdAt) >= since).length,
        ]),
      );
    }
    case "stop":
      setImmediate(() => void stop(0));
      return null;
  }
}

process.on("message", (message: RequestEnvelope) => {
  answer(message.request).then(
    (result) => send({ id: message.id, result }),
    (error: unknown) =>
      send({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});

/** What a 50-PR backfill page weighs in the latency model (no HTTP, no rate-limit charge). */
async function calibrate(): Promise<FakeServerReady["calibration"]> {
  const first = installations[0];
  const repo = first?.repos[0];
  const nodeId = repo === undefined ? undefined : fake.world.getRepo(repo.id)?.nodeId;
  if (first === undefined || nodeId === undefined)
    return { pageSize: 50, nodes: 0, modelledMs: 0, points: 0 };
  const outcome = await executeGraphql(
    { world: fake.world, urls: fake.urls, installationId: first.id, limiter: null },
    {
      query: loadQuery("repository-pull-requests"),
      variables: { repoId: nodeId, first: 50, after: null, orderBy: "CREATED_AT" },
    },
  );
  return {
    pageSize: 50,
    nodes: outcome.nodes,
    modelledMs: options.latency.baseMs + options.latency.perNodeMs * outcome.nodes,
    points: outcome.cost,
  };
}

send({
  type: "ready",
  host: fake.host,
  url: fake.url,
  installations,
  calibration: await calibrate(),
  seedMs,
});
