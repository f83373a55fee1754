import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { eq } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { APP_ID } from "../support/app.js";
import { deliverInstallationCreated } from "../support/delivery-stream.js";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { useTestApp } from "../support/harness.js";

// A GitHub Enterprise Server with rate limiting disabled sends no x-ratelimit-* headers and answers
// `rateLimit` with null. The engine must neither pause nor fail for lack of a budget reading.

let github: FakeGitHub;
beforeAll(async () => {
  github = await startFakeGitHub({ seed: 5, sendRateLimitHeaders: false });
});
const t = useTestApp(() => ({ env: { GHE_HOST: github.host, GHE_PROTOCOL: "http" } }));
afterAll(async () => {
  await github.close();
});

it("backfills and syncs members without rate-limit information", async () => {
  const { repos, members } = github.world.seedOrg({
    login: "onprem",
    repos: 2,
    prsPerRepo: 80,
    members: 4,
    spanDays: 20,
    installationId: 7700,
    appId: Number(APP_ID),
  });
  await deliverInstallationCreated(t.app, github.world, 7700);
  await t.app.drain(undefined, 120_000);

  const stored = await t.database.db.select({ id: schema.pullRequests.id }).from(schema.pullRequests);
  const truth = repos.flatMap((repo) => github.world.listPullRequests(repo.id));
  expect(stored.map((row) => row.id).sort()).toEqual(truth.map((pr) => pr.id).sort());
  for (const repo of repos) {
    const [row] = await t.database.db
      .select()
      .from(schema.repositories)
      .where(eq(schema.repositories.id, repo.id));
    expect(row).toMatchObject({ syncStatus: "complete", pausedUntil: null, failureCount: 0 });
  }
  expect(await t.database.db.select().from(schema.members)).toHaveLength(members.length);
}, 150_000);
