import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import { asc, eq } from "drizzle-orm";
import * as schema from "../../src/db/schema/index.js";
import { defaultInstallationSettings } from "../../src/settings.js";
import { recomputePullRequests } from "../../src/sync/recompute.js";
import { useTestApp } from "../support/harness.js";

// Migration 0011 fills first_reviewer_id for the pull requests stored before it existed, with SQL
// of its own; every later write computes it in src/metrics/pull-request.ts. The two must name the
// same reviewer: the migration's statement runs here on pull requests whose first reviewer the app
// computed, and must find the same one.

const t = useTestApp({ queues: [] });
const INSTALLATION = 31;
const REPO = 3101;

/** The migration's last statement: the backfill. */
function backfillStatement(): string {
  const migration = readFileSync(new URL("../../db/0011_teams.sql", import.meta.url), "utf8");
  return migration.split("--> statement-breakpoint").at(-1)!;
}

const at = (hour: number) => new Date(Date.UTC(2024, 0, 8, hour));
let nextReview = 1;

function pullRequest(id: number, author: { id: number | null; login: string | null }) {
  return {
    installationId: INSTALLATION,
    id,
    repoId: REPO,
    number: id,
    title: `Change ${id}`,
    state: "open" as const,
    authorId: author.id,
    authorLogin: author.login,
    authorType: "User",
    headRef: `feature/${id}`,
    baseRef: "main",
    createdAt: at(0),
    updatedAt: at(0),
  };
}

function review(
  pullRequestId: number,
  reviewer: { id: number | null; login: string | null; type?: string },
  hour: number | null,
  state: "approved" | "commented" | "dismissed" | "pending" = "approved",
) {
  return {
    id: nextReview++,
    installationId: INSTALLATION,
    pullRequestId,
    repoId: REPO,
    reviewerId: reviewer.id,
    reviewerLogin: reviewer.login,
    reviewerType: reviewer.type ?? "User",
    state,
    submittedAt: hour === null ? null : at(hour),
  };
}

describe("migration 0011's first reviewers", () => {
  it("are the ones the app computes", async () => {
    const ada = { id: 1, login: "ada" };
    const grace = { id: 2, login: "grace" };
    const linus = { id: 3, login: "linus" };
    const bot = { id: 9, login: "renovate[bot]", type: "Bot" };
    const ghost = { id: null, login: null };
    await t.database.db
      .insert(schema.installations)
      .values({ id: INSTALLATION, accountId: 1, accountLogin: "acme", accountType: "Organization" });
    await t.database.db
      .insert(schema.repositories)
      .values({ id: REPO, installationId: INSTALLATION, fullName: "acme/api", tracked: true });
    await t.database.db
      .insert(schema.pullRequests)
      .values([
        pullRequest(1, ada),
        pullRequest(2, ada),
        pullRequest(3, ada),
        pullRequest(4, { id: null, login: "grace" }),
        pullRequest(5, ada),
      ]);
    await t.database.db.insert(schema.reviews).values([
      // 1: the author's own and a bot's come first; grace's is the first review.
      review(1, ada, 1, "commented"),
      review(1, bot, 2, "commented"),
      review(1, grace, 3),
      review(1, linus, 4),
      // 2: a pending draft is no review; a dismissed one is.
      review(2, grace, null, "pending"),
      review(2, linus, 5, "dismissed"),
      review(2, grace, 6),
      // 3: nobody but the author.
      review(3, ada, 2, "commented"),
      // 4: an author known by login only: her own review is hers.
      review(4, grace, 1, "commented"),
      review(4, linus, 2),
      // 5: a deleted account reviewed first: a first review without a reviewer.
      review(5, ghost, 1),
      review(5, grace, 2),
    ]);
    await recomputePullRequests(t.database.db, INSTALLATION, [1, 2, 3, 4, 5], defaultInstallationSettings);
    const stored = () =>
      t.database.db
        .select({ id: schema.pullRequests.id, firstReviewerId: schema.pullRequests.firstReviewerId })
        .from(schema.pullRequests)
        .where(eq(schema.pullRequests.installationId, INSTALLATION))
        .orderBy(asc(schema.pullRequests.id));
    const computed = await stored();
    expect(computed.map((row) => row.firstReviewerId)).toEqual([2, 3, null, 3, null]);

    await t.database.sql`update pull_requests set first_reviewer_id = null`;
    await t.database.sql.unsafe(backfillStatement());
    expect(await stored()).toEqual(computed);
  });
});
