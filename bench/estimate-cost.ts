import { defaultInstallationSettings } from "../src/settings.js";
import { estimateBackfills } from "../src/sync/estimate.js";
import { startFakeGitHub } from "../test/support/fake-github/index.js";
import { fakeGitHubClient } from "../test/support/fake-github-client.js";

/**
 * What the backfill estimate of a track confirmation costs GitHub, as the fake GitHub counts it:
 * `npx tsx bench/estimate-cost.ts [repositories]` (500 by default). Queries are the wall time too:
 * an installation's GraphQL queries are paced one a second (GITHUB_WRITE_INTERVAL_MS).
 */

const INSTALLATION_ID = 1;
const repositories = Number(process.argv[2] ?? 500);
if (!Number.isInteger(repositories) || repositories < 1) {
  throw new Error(`repositories: expected a positive integer, got ${process.argv[2]}`);
}

const github = await startFakeGitHub({ seed: 4 });
try {
  const login = "estimate";
  const seeded = github.world.seedOrg({
    login,
    repos: repositories,
    prsPerRepo: 20,
    members: 5,
    spanDays: 365,
    installationId: INSTALLATION_ID,
  });
  const repos = seeded.repos.map((repo) => ({
    id: repo.id,
    fullName: `${login}/${repo.name}`,
    nodeId: repo.nodeId,
    syncDepth: null,
    backfilledSince: null,
  }));
  github.stats.reset();
  const estimate = await estimateBackfills(
    fakeGitHubClient(github, INSTALLATION_ID),
    repos,
    { settings: defaultInstallationSettings, now: new Date(), reservePercent: 10 },
    4,
    repos.length,
  );
  const stats = github.stats.snapshot();
  console.log(
    JSON.stringify({
      repositories,
      queries: stats.graphql,
      points: stats.graphqlPoints,
      operations: [...new Set(stats.operations.map((operation) => operation.name))],
      pacedSeconds: stats.graphql,
      prs: estimate.prs,
    }),
  );
} finally {
  await github.close();
}
