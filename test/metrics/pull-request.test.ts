import { describe, expect, it } from "@jest/globals";
import {
  computeCycleTimePhases,
  computeFirstCommitAt,
  computeFirstReview,
  computePullRequestMetrics,
  derivePullRequestState,
  hoursBetween,
  isBotCommitAuthor,
  isHotfixPullRequest,
  isRevertPullRequest,
  matchesRevertPattern,
  type PullRequestFacts,
  type ReviewFacts,
} from "../../src/metrics/pull-request.js";

const t = (iso: string) => new Date(iso);
const review = (patch: Partial<ReviewFacts>): ReviewFacts => ({
  reviewerId: 2,
  reviewerLogin: "reviewer",
  reviewerType: "User",
  state: "approved",
  submittedAt: t("2024-01-01T10:00:00Z"),
  ...patch,
});
const facts = (patch: Partial<PullRequestFacts> = {}): PullRequestFacts => ({
  title: "Add feature",
  body: null,
  headRef: "feature/x",
  baseRef: "main",
  labels: [],
  authorId: 1,
  authorLogin: "author",
  createdAt: t("2024-01-01T00:00:00Z"),
  mergedAt: null,
  reviews: [],
  commits: [],
  ...patch,
});

describe("derivePullRequestState", () => {
  it.each<[string, Date | null, string]>([
    ["open", null, "open"],
    ["closed", null, "closed"],
    ["closed", t("2024-01-02T00:00:00Z"), "merged"],
    ["MERGED", t("2024-01-02T00:00:00Z"), "merged"],
    ["OPEN", null, "open"],
    ["CLOSED", null, "closed"],
  ])("%s with merged_at %p is %s", (state, mergedAt, expected) => {
    expect(derivePullRequestState(state, mergedAt)).toBe(expected);
  });
});

describe("computeFirstReview", () => {
  it.each<[string, ReviewFacts[], string | null]>([
    ["no reviews", [], null],
    ["one review", [review({})], "2024-01-01T10:00:00.000Z"],
    [
      "earliest of several",
      [
        review({ submittedAt: t("2024-01-03T00:00:00Z") }),
        review({ submittedAt: t("2024-01-02T00:00:00Z") }),
      ],
      "2024-01-02T00:00:00.000Z",
    ],
    ["pending review ignored", [review({ state: "pending", submittedAt: null })], null],
    ["author's own review ignored", [review({ reviewerId: 1, reviewerLogin: "author" })], null],
    ["bot by type ignored", [review({ reviewerType: "Bot", reviewerLogin: "ci" })], null],
    ["bot by login ignored", [review({ reviewerType: null, reviewerLogin: "renovate[bot]" })], null],
    [
      "commented counts, dismissed counts",
      [
        review({ state: "commented", submittedAt: t("2024-01-05T00:00:00Z") }),
        review({ state: "dismissed", submittedAt: t("2024-01-04T00:00:00Z") }),
      ],
      "2024-01-04T00:00:00.000Z",
    ],
    [
      "bot earlier than human",
      [review({ reviewerType: "Bot", submittedAt: t("2024-01-01T01:00:00Z") }), review({})],
      "2024-01-01T10:00:00.000Z",
    ],
  ])("%s", (_name, reviews, expected) => {
    expect(computeFirstReview(facts({ reviews })).firstReviewAt?.toISOString() ?? null).toBe(expected);
  });

  it("matches the author by login when GitHub gave no author id", () => {
    const pr = facts({ authorId: null, reviews: [review({ reviewerId: 9, reviewerLogin: "author" })] });
    expect(computeFirstReview(pr)).toEqual({ firstReviewAt: null, firstReviewerId: null });
  });

  it.each<[string, ReviewFacts[], number | null]>([
    ["no reviews", [], null],
    [
      "the earliest reviewer, whatever the order",
      [
        review({ reviewerId: 3, submittedAt: t("2024-01-03T00:00:00Z") }),
        review({ reviewerId: 4, submittedAt: t("2024-01-02T00:00:00Z") }),
      ],
      4,
    ],
    [
      "not the author or a bot before them",
      [
        review({ reviewerId: 1, reviewerLogin: "author", submittedAt: t("2024-01-01T01:00:00Z") }),
        review({ reviewerId: 7, reviewerType: "Bot", submittedAt: t("2024-01-01T02:00:00Z") }),
        review({ reviewerId: 5 }),
      ],
      5,
    ],
    [
      "the first listed of reviews in the same second",
      [review({ reviewerId: 6 }), review({ reviewerId: 5 })],
      6,
    ],
    ["a deleted account: a time, no reviewer", [review({ reviewerId: null, reviewerLogin: null })], null],
  ])("first reviewer: %s", (_name, reviews, expected) => {
    expect(computeFirstReview(facts({ reviews })).firstReviewerId).toBe(expected);
  });
});

describe("hoursBetween", () => {
  it.each([
    ["2024-01-01T00:00:00Z", "2024-01-01T01:30:00Z", 1.5],
    ["2024-01-01T00:00:00Z", "2024-01-03T00:00:00Z", 48],
    ["2024-01-01T00:00:00Z", "2024-01-01T00:00:20Z", 0.01],
    ["2024-01-01T00:00:00Z", "2024-01-01T00:20:00Z", 0.33],
    ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", 0],
    // Exactly half a hundredth: up, as Postgres rounds numeric (0.285 h and 1.005 h).
    ["2024-01-01T00:00:00Z", "2024-01-01T00:17:06Z", 0.29],
    ["2024-01-01T00:00:00Z", "2024-01-01T01:00:18Z", 1.01],
    ["2024-01-01T00:17:06Z", "2024-01-01T00:00:00Z", -0.29],
  ])("%s → %s is %p hours", (from, to, expected) => {
    expect(hoursBetween(t(from), t(to))).toBe(expected);
  });
  it("is null without an end", () => expect(hoursBetween(t("2024-01-01T00:00:00Z"), null)).toBeNull());
});

describe("isRevertPullRequest", () => {
  it.each([
    [{ title: 'Revert "Add feature"', body: null, commits: [] }, true],
    [{ title: "Revert the thing", body: null, commits: [] }, false],
    [{ title: 'revert "lower case"', body: null, commits: [] }, false],
    [{ title: "Undo", body: "This reverts commit abc123.", commits: [] }, true],
    [
      {
        title: "Undo",
        body: "",
        commits: [{ message: "Revert x\n\nThis reverts commit abc.", authoredAt: null, committedAt: null }],
      },
      true,
    ],
    [{ title: "Fix", body: "reverts nothing", commits: [] }, false],
  ])("%o → %p", (input, expected) => {
    expect(isRevertPullRequest(input)).toBe(expected);
  });
});

describe("isHotfixPullRequest", () => {
  it.each([
    ["hotfix/login", "Fix login", true],
    ["hot-fix-123", "Fix", true],
    ["HOTFIX-1", "Fix", true],
    ["feature/hotfix", "Fix", false],
    ["hotfixes", "Fix", false],
    ["main-fix", "Hotfix for the outage", true],
    ["main-fix", "Urgent hotfix: login", true],
    ["main-fix", "Hotfixes", false],
    ["main-fix", "shotfix", false],
  ])("branch %s, title %s → %p", (headRef, title, expected) => {
    expect(isHotfixPullRequest({ headRef, title })).toBe(expected);
  });

  it("uses per-installation patterns", () => {
    const patterns = { hotfixBranchPattern: "^urgent/", hotfixTitlePattern: "\\bSEV\\d\\b" };
    expect(isHotfixPullRequest({ headRef: "urgent/x", title: "a" }, patterns)).toBe(true);
    expect(isHotfixPullRequest({ headRef: "hotfix/x", title: "SEV1 fix" }, patterns)).toBe(true);
    expect(isHotfixPullRequest({ headRef: "hotfix/x", title: "fix" }, patterns)).toBe(false);
  });

  it("falls back to the default when a stored pattern is not a valid regular expression", () => {
    const patterns = { hotfixBranchPattern: "([", hotfixTitlePattern: "\\bhotfix\\b" };
    expect(isHotfixPullRequest({ headRef: "hotfix/x", title: "a" }, patterns)).toBe(true);
  });
});

describe("computeFirstCommitAt", () => {
  it("takes the earliest author date, falling back to the commit date", () => {
    const first = computeFirstCommitAt([
      { message: "a", authoredAt: t("2024-01-02T00:00:00Z"), committedAt: t("2024-01-05T00:00:00Z") },
      { message: "b", authoredAt: null, committedAt: t("2024-01-01T12:00:00Z") },
    ]);
    expect(first?.toISOString()).toBe("2024-01-01T12:00:00.000Z");
  });
  it("is null without commits", () => expect(computeFirstCommitAt([])).toBeNull());
});

describe("computePullRequestMetrics", () => {
  it("computes every metric of a merged, reviewed pull request", () => {
    const metrics = computePullRequestMetrics(
      facts({
        mergedAt: t("2024-01-02T12:00:00Z"),
        reviews: [review({ submittedAt: t("2024-01-01T03:15:00Z") })],
        commits: [{ message: "x", authoredAt: t("2023-12-31T20:00:00Z"), committedAt: null }],
      }),
    );
    expect(metrics).toEqual({
      firstReviewAt: t("2024-01-01T03:15:00Z"),
      firstReviewerId: 2,
      firstCommitAt: t("2023-12-31T20:00:00Z"),
      cycleTimeHours: 36,
      reviewTimeHours: 3.25,
      // Created (never a draft) 2024-01-01T00:00: coding from the first commit 4 h before, pickup
      // 3.25 h to the review, review 32.75 h to the merge; together the cycle time plus coding.
      codingPhaseHours: 4,
      pickupPhaseHours: 3.25,
      reviewPhaseHours: 32.75,
      // The default working hours, Mon–Fri 09:00–18:00 UTC: merged Tuesday noon after Monday's 9 h.
      cycleTimeWorkingHours: 12,
      reviewTimeWorkingHours: 0,
      codingPhaseWorkingHours: 0,
      pickupPhaseWorkingHours: 0,
      reviewPhaseWorkingHours: 12,
      isRevert: false,
      revertPatternMatch: false,
      isHotfix: false,
      excludedReason: null,
    });
  });
  it("leaves cycle and review time null for an open, unreviewed pull request", () => {
    const metrics = computePullRequestMetrics(facts());
    expect(metrics.cycleTimeHours).toBeNull();
    expect(metrics.reviewTimeHours).toBeNull();
  });
});

describe("computeCycleTimePhases", () => {
  const at = (iso: string) => new Date(iso);
  it.each([
    [
      "ready when created",
      {
        createdAt: at("2024-01-01T10:00:00Z"),
        firstCommitAt: at("2024-01-01T08:00:00Z"),
        firstReviewAt: at("2024-01-01T13:00:00Z"),
        mergedAt: at("2024-01-02T10:00:00Z"),
      },
      { codingPhaseHours: 2, pickupPhaseHours: 3, reviewPhaseHours: 21 },
    ],
    [
      "ready later than created: the ready-for-review event starts pickup",
      {
        createdAt: at("2024-01-01T10:00:00Z"),
        readyForReviewAt: at("2024-01-01T20:00:00Z"),
        firstCommitAt: at("2024-01-01T08:00:00Z"),
        firstReviewAt: at("2024-01-01T21:30:00Z"),
        mergedAt: null,
      },
      { codingPhaseHours: 12, pickupPhaseHours: 1.5, reviewPhaseHours: null },
    ],
    [
      "no commits, no review",
      {
        createdAt: at("2024-01-01T10:00:00Z"),
        firstCommitAt: null,
        firstReviewAt: null,
        mergedAt: at("2024-01-01T11:00:00Z"),
      },
      { codingPhaseHours: null, pickupPhaseHours: null, reviewPhaseHours: null },
    ],
    [
      "a review before ready (on the draft) counts as no pickup wait",
      {
        createdAt: at("2024-01-01T10:00:00Z"),
        readyForReviewAt: at("2024-01-02T10:00:00Z"),
        firstCommitAt: at("2024-01-01T09:00:00Z"),
        firstReviewAt: at("2024-01-01T12:00:00Z"),
        mergedAt: at("2024-01-02T12:00:00Z"),
      },
      { codingPhaseHours: 25, pickupPhaseHours: 0, reviewPhaseHours: 24 },
    ],
  ])("%s", (_name, input, expected) => {
    expect(computeCycleTimePhases(input)).toEqual(expected);
  });
});

describe("matchesRevertPattern", () => {
  it.each([
    ["", "Rollback deploy", false],
    ["^rollback", "Rollback deploy", true],
    ["^rollback", "Do not rollback", false],
  ])("pattern %j on %j", (pattern, title, expected) => {
    expect(
      matchesRevertPattern(
        { title },
        { hotfixBranchPattern: "", hotfixTitlePattern: "", revertTitlePattern: pattern },
      ),
    ).toBe(expected);
  });
});

describe("isBotCommitAuthor", () => {
  const author = (authorLogin: string | null, authorName: string | null, authorEmail: string | null) => ({
    authorLogin,
    authorName,
    authorEmail,
  });
  it.each([
    [
      "a [bot] name with its no-reply address",
      author(null, "dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com"),
      true,
    ],
    ["a [bot] login", author("github-actions[bot]", null, null), true],
    ["a [bot] name alone", author(null, "renovate[bot]", "bot@renovateapp.com"), true],
    [
      "a bot's no-reply address alone, on GHES",
      author(null, "Automation", "12+release[bot]@users.noreply.ghe.example"),
      true,
    ],
    ["a person's no-reply address", author(null, "Ada", "1+ada@users.noreply.github.com"), false],
    ["a person", author("ada", "Ada Lovelace", "ada@example.com"), false],
    ["nothing known", author(null, null, null), false],
  ])("%s: %s", (_name, facts, expected) => {
    expect(isBotCommitAuthor(facts)).toBe(expected);
  });
});
