import { asc, inArray } from "drizzle-orm";
import type { Database } from "../../src/db/client.js";
import * as schema from "../../src/db/schema/index.js";
import { MAX_PULL_REQUEST_COMMITS, type World } from "./fake-github/index.js";

/**
 * What the database holds of these repositories' pull requests, reviews and commits, beside what
 * the fake GitHub has: equal when the app stored every one with GitHub's values and nothing else.
 * Plain values, so tests (delivery-stream.ts) and benchmarks (bench/nightly.ts) compare them alike.
 */
export async function readStoredAndTruth(
  database: Pick<Database, "db">,
  world: World,
  repoIds: readonly number[],
) {
  const prs = repoIds.flatMap((repoId) => world.listPullRequests(repoId));
  const storedPrs = await database.db
    .select()
    .from(schema.pullRequests)
    .where(inArray(schema.pullRequests.repoId, [...repoIds]))
    .orderBy(asc(schema.pullRequests.id));
  const storedReviews = await database.db
    .select({ id: schema.reviews.id, state: schema.reviews.state })
    .from(schema.reviews)
    .where(inArray(schema.reviews.repoId, [...repoIds]));
  const storedCommits = await database.db
    .select({ pullRequestId: schema.commits.pullRequestId, sha: schema.commits.sha })
    .from(schema.commits)
    .where(inArray(schema.commits.repoId, [...repoIds]));
  return {
    stored: {
      pullRequests: storedPrs.map((row) => ({
        id: row.id,
        number: row.number,
        repoId: row.repoId,
        state: row.state,
        title: row.title,
        updatedAt: row.updatedAt,
        mergedAt: row.mergedAt,
        additions: row.additions,
        deletions: row.deletions,
      })),
      reviews: storedReviews.map((r) => `${r.id}:${r.state}`).sort(),
      commits: storedCommits.map((c) => `${c.pullRequestId}:${c.sha}`).sort(),
    },
    truth: {
      pullRequests: [...prs]
        .sort((a, b) => a.id - b.id)
        .map((pr) => ({
          id: pr.id,
          number: pr.number,
          repoId: pr.repoId,
          state: pr.state === "MERGED" ? "merged" : pr.state === "OPEN" ? "open" : "closed",
          title: pr.title,
          updatedAt: new Date(pr.updatedAt),
          mergedAt: pr.mergedAt ? new Date(pr.mergedAt) : null,
          additions: pr.additions,
          deletions: pr.deletions,
        })),
      reviews: prs
        .flatMap((pr) => pr.reviews)
        .filter((review) => review.state !== "PENDING")
        .map((review) => `${review.id}:${review.state.toLowerCase()}`)
        .sort(),
      commits: prs
        .flatMap((pr) =>
          // What GitHub lists of a pull request's commits: its first 250.
          pr.commits.slice(0, MAX_PULL_REQUEST_COMMITS).map((commit) => `${pr.id}:${commit.sha}`),
        )
        .sort(),
    },
  };
}
