import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { asc, eq } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { APP_ID, startTestApp, type TestApp } from "../support/app.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";
import { buildPullRequestActivity, shuffle } from "../support/delivery-stream.js";
import { buildWebhook, startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";

// End to end against the fake GitHub, addressed as a GitHub Enterprise Server (GHE_HOST): real
// signed webhooks in shuffled order with duplicates, real installation tokens, real GraphQL on
// GitHub's schema. Afterwards the database must hold exactly what the fake GitHub holds.

let database: TestDatabase;
let github: FakeGitHub;
let app: TestApp;

beforeAll(async () => {
  database = await createTestDatabase();
  github = await startFakeGitHub({ seed: 7 });
  app = await startTestApp(database, {
    env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" },
    queues: ["processWebhook", "refreshPullRequest"],
  });
});

afterAll(async () => {
  await app.stop();
  await github.close();
  await database.drop();
});

it("stores exactly what GitHub holds after shuffled, duplicated deliveries", async () => {
  const { installation, repos } = github.world.seedOrg({
    login: "acme",
    repos: 2,
    prsPerRepo: 8,
    members: 6,
    reviewsPerPr: [0, 4],
    commitsPerPr: [1, 5],
    appId: Number(APP_ID),
  });

  const prs = repos.flatMap((repo) => github.world.listPullRequests(repo.id));
  const first = buildWebhook(github.world, "installation", "created", { installationId: installation.id });
  const rest = buildPullRequestActivity(github.world, prs);
  // The installation first (as GitHub does), then everything else shuffled, a third delivered twice.
  const deliveries = [first, ...shuffle([...rest, ...rest.filter((_, i) => i % 3 === 0)], 42)];
  const started = Date.now();
  for (const hook of deliveries) {
    const response = await app.deliver(hook.name, hook.payload, { id: hook.id });
    expect(response.status).toBe(202);
  }
  const delivered = Date.now();
  await app.drain(["process-webhook", "refresh-pull-request"], 90_000);
  if (process.env.TEST_TIMINGS)
    console.log({
      deliveries: deliveries.length,
      deliverMs: delivered - started,
      drainMs: Date.now() - delivered,
    });

  const failed = await database.db
    .select()
    .from(schema.webhookDeliveries)
    .where(eq(schema.webhookDeliveries.status, "failed"));
  expect(failed).toEqual([]);

  const stored = await database.db.select().from(schema.pullRequests).orderBy(asc(schema.pullRequests.id));
  expect(stored).toHaveLength(prs.length);
  for (const pr of prs) {
    const row = stored.find((candidate) => candidate.id === pr.id);
    const expectedState = pr.state === "MERGED" ? "merged" : pr.state === "OPEN" ? "open" : "closed";
    expect(row).toMatchObject({
      number: pr.number,
      repoId: pr.repoId,
      title: pr.title,
      state: expectedState,
      draft: pr.isDraft,
      createdAt: new Date(pr.createdAt),
      updatedAt: new Date(pr.updatedAt),
      mergedAt: pr.mergedAt ? new Date(pr.mergedAt) : null,
      additions: pr.additions,
      deletions: pr.deletions,
      commitsCount: pr.commits.length,
      cycleTimeHours: pr.mergedAt
        ? Math.round(((Date.parse(pr.mergedAt) - Date.parse(pr.createdAt)) / 3_600_000) * 100) / 100
        : null,
    });
    const reviews = await database.db
      .select()
      .from(schema.reviews)
      .where(eq(schema.reviews.pullRequestId, pr.id));
    expect(reviews.map((r) => [r.id, r.state]).sort()).toEqual(
      pr.reviews
        .filter((r) => r.state !== "PENDING")
        .map((r) => [r.id, r.state.toLowerCase()])
        .sort(),
    );
    const commits = await database.db
      .select()
      .from(schema.commits)
      .where(eq(schema.commits.pullRequestId, pr.id));
    expect(commits.map((c) => c.sha).sort()).toEqual(pr.commits.map((c) => c.sha).sort());
  }

  const repositories = await database.db.select().from(schema.repositories);
  expect(repositories.map((r) => r.fullName).sort()).toEqual(
    repos.map((r) => `${r.ownerLogin}/${r.name}`).sort(),
  );
}, 120_000);

it("refuses deliveries with a bad signature and leaves no row behind", async () => {
  const before = await database.db.select().from(schema.webhookDeliveries);
  const pr = github.world.pullRequests.values().next().value!;
  const hook = buildWebhook(github.world, "pull_request", "edited", { prId: pr.id });
  const response = await app.deliver(hook.name, hook.payload, { signature: "sha256=" + "0".repeat(64) });
  expect(response.status).toBe(401);
  expect(await database.db.select().from(schema.webhookDeliveries)).toHaveLength(before.length);
});
