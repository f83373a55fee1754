import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Repository } from "../../src/db/schema/index.js";
import { defaultInstallationSettings, type SyncDepth } from "../../src/settings.js";
import {
  countWindow,
  estimateBackfills,
  type EstimateWindow,
  type NewestPullRequests,
} from "../../src/sync/estimate.js";
import { encodeNodeId, startFakeGitHub, type FakeGitHub } from "../support/fake-github/index.js";
import { fakeGitHubClient } from "../support/fake-github-client.js";

// Issue 14 §4: the backfill estimate asks a hundred repositories a query (1 point each), not one
// query per repository at the installation's one-a-second pace. Queries and points are the fake
// GitHub's own record; the counts are compared with its pull requests, filtered here by creation time.

const DAY = 86_400_000;
let github: FakeGitHub;
let now: Date;
let nextInstallationId = 9400;

beforeAll(async () => {
  github = await startFakeGitHub({ seed: 44 });
  now = new Date();
  github.world.setNow(now);
});
afterAll(async () => {
  await github.close();
});

type Repo = Pick<Repository, "id" | "fullName" | "nodeId" | "syncDepth" | "backfilledSince">;

/** An org of `repos` repositories with the App installed, none of them tracked yet. */
function organization(repos: number, prsPerRepo: number, spanDays: number) {
  const installationId = nextInstallationId++;
  const login = `estimate${installationId}`;
  const seeded = github.world.seedOrg({
    login,
    repos,
    prsPerRepo,
    members: 2,
    reviewsPerPr: [0, 0],
    commitsPerPr: [1, 1],
    spanDays,
    longLists: false,
    installationId,
  });
  const stored: Repo[] = seeded.repos.map((repo) => ({
    id: repo.id,
    fullName: `${login}/${repo.name}`,
    nodeId: repo.nodeId,
    syncDepth: null,
    backfilledSince: null,
  }));
  return { client: fakeGitHubClient(github, installationId), repos: stored };
}

/** The repository's depth, and where an earlier, shallower backfill reached (days ago). */
function deepened(repo: Repo, syncDepth: SyncDepth | null, storedDays: number | null): Repo {
  return {
    ...repo,
    syncDepth,
    backfilledSince: storedDays === null ? null : new Date(now.getTime() - storedDays * DAY),
  };
}

/** The fake's truth: pull requests created in the window the backfill still fetches. */
function truth(repo: Repo): number {
  const days = { "30d": 30, "60d": 60, "90d": 90, "180d": 180, "365d": 365, full: null }[
    repo.syncDepth ?? "30d"
  ];
  const from = days === null ? -Infinity : now.getTime() - days * DAY;
  const until = repo.backfilledSince?.getTime() ?? Infinity;
  return github.world.listPullRequests(repo.id).filter((pr) => {
    const created = new Date(pr.createdAt).getTime();
    return created >= from && created < until;
  }).length;
}

async function estimate(client: ReturnType<typeof fakeGitHubClient>, repos: Repo[]) {
  github.stats.reset();
  const result = await estimateBackfills(
    client,
    repos,
    { settings: defaultInstallationSettings, now, reservePercent: 10 },
    4,
    repos.length,
  );
  // Which queries and what each cost (the objects each returned are not this test's subject).
  const operations = github.stats.snapshot().operations.map(({ name, cost }) => ({ name, cost }));
  return { result, operations };
}

it("asks for 250 repositories in 3 queries of 1 point, each count exact and GitHub's", async () => {
  const { client, repos } = organization(250, 6, 120);
  // The default 30 days; 90 days over 20 already stored; the whole history.
  const selected = repos.map(
    (repo, index) =>
      [deepened(repo, null, null), deepened(repo, "90d", 20), deepened(repo, "full", null)][index % 3]!,
  );

  const { result, operations } = await estimate(client, selected);

  expect(operations).toEqual([1, 2, 3].map(() => ({ name: "RepositoryWindowSizes", cost: 1 })));
  expect(result.repositories).toEqual(
    selected.map((repo) => ({ repoId: repo.id, fullName: repo.fullName, prs: truth(repo), count: "exact" })),
  );
  expect(result.prs).toBeGreaterThan(250);
});

describe("a repository with more pull requests than the newest hundred", () => {
  // 300 pull requests over 300 days: the newest hundred reach back about 100 days.
  it.each<[string, SyncDepth, number | null, "exact" | "estimated"]>([
    ["30 days: counted among the newest", "30d", null, "exact"],
    ["the whole history: the total", "full", null, "exact"],
    [
      "the whole history beyond the 30 days stored: all older ones and the newest before them",
      "full",
      30,
      "exact",
    ],
    ["180 days beyond the 30 days stored: extrapolated", "180d", 30, "estimated"],
    ["the whole history beyond 200 days stored: extrapolated", "full", 200, "estimated"],
  ])("%s", async (_name, depth, storedDays, count) => {
    const { client, repos } = organization(1, 300, 300);
    const repo = deepened(repos[0]!, depth, storedDays);

    const { result, operations } = await estimate(client, [repo]);

    expect(operations).toHaveLength(1);
    const [answer] = result.repositories;
    expect(answer!.count).toBe(count);
    if (count === "exact") expect(answer!.prs).toBe(truth(repo));
    // Extrapolated from a sample of a hundred: near the truth, not equal to it.
    else expect(Math.abs(answer!.prs - truth(repo))).toBeLessThanOrEqual(truth(repo) * 0.2);
  });
});

it("reports a repository GitHub did not answer for, and counts the others", async () => {
  const { client, repos } = organization(2, 10, 20);
  const gone = { ...repos[0]!, nodeId: encodeNodeId("R", 987_654_321) };
  const noNodeId = { ...repos[1]!, id: repos[1]!.id + 1_000_000, nodeId: null };
  const selected = [gone, repos[1]!, noNodeId];

  const { result, operations } = await estimate(client, selected);

  expect(operations).toHaveLength(1);
  expect(result.repositories.map(({ prs, count }) => ({ prs, count }))).toEqual([
    { prs: 0, count: "unknown" },
    { prs: truth(repos[1]!), count: "exact" },
    // Never asked: without a node id its backfill cannot run either.
    { prs: 0, count: "exact" },
  ]);
});

describe("countWindow", () => {
  // The newest hundred of 300 pull requests, one a day, the newest half a day old.
  const NOW = new Date("2026-12-01T00:00:00Z");
  const at = (daysAgo: number) => new Date(NOW.getTime() - daysAgo * DAY);
  const newest = (totalCount: number, count = 100): NewestPullRequests => ({
    totalCount,
    nodes: Array.from({ length: count }, (_, day) => ({ createdAt: at(day + 0.5).toISOString() })),
  });
  it.each<[string, NewestPullRequests, EstimateWindow, ReturnType<typeof countWindow>]>([
    ["the last 10 days", newest(300), { from: at(10), until: null }, { prs: 10, count: "exact" }],
    ["no window's start: the total", newest(300), { from: null, until: null }, { prs: 300, count: "exact" }],
    [
      "days 200 to 10: 90 seen, ~101 at their rate",
      newest(300),
      { from: at(200), until: at(10) },
      { prs: 191, count: "estimated" },
    ],
    [
      "before day 150: the 200 older less ~51 at their rate",
      newest(300),
      { from: null, until: at(150) },
      { prs: 149, count: "estimated" },
    ],
    [
      "no more than there are older ones",
      newest(120),
      { from: at(3000), until: null },
      { prs: 120, count: "estimated" },
    ],
    [
      "all there are, whatever the window",
      newest(60, 60),
      { from: at(1000), until: at(5) },
      { prs: 55, count: "exact" },
    ],
    ["none at all", newest(0, 0), { from: at(30), until: null }, { prs: 0, count: "exact" }],
    [
      "a total without its pull requests",
      newest(5, 0),
      { from: at(30), until: null },
      { prs: 0, count: "unknown" },
    ],
  ])("%s", (_name, pullRequests, window, expected) => {
    expect(countWindow(pullRequests, window, NOW)).toEqual(expected);
  });
});
