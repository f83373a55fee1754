import { describe, expect, it } from "@jest/globals";
import { computeExcludedReason, type ExclusionFacts } from "../../src/metrics/exclusions.js";
import { defaultInstallationSettings } from "../../src/settings.js";

const facts = (patch: Partial<ExclusionFacts> = {}): ExclusionFacts => ({
  labels: [],
  authorLogin: "ada",
  headRef: "feature/search",
  baseRef: "main",
  ...patch,
});

const settings = {
  excludedLabels: ["skip-metrics", "Dependencies"],
  excludedAuthors: ["Renovate-Bot"],
  excludedHeadBranchPattern: "^release/",
  excludedBaseBranchPattern: "^gh-pages$",
};

describe("computeExcludedReason", () => {
  it.each([
    ["counts a plain pull request", facts(), null],
    ["a listed label, any case", facts({ labels: ["bug", "SKIP-metrics"] }), "label: SKIP-metrics"],
    ["another listed label", facts({ labels: ["dependencies"] }), "label: dependencies"],
    ["a label only containing a listed one", facts({ labels: ["skip-metrics-later"] }), null],
    ["labels not yet known count as none", facts({ labels: null }), null],
    ["a listed author, any case", facts({ authorLogin: "renovate-bot" }), "author: renovate-bot"],
    ["a deleted author", facts({ authorLogin: null }), null],
    ["the head branch pattern", facts({ headRef: "Release/1.2" }), "head branch: Release/1.2"],
    ["the base branch pattern", facts({ baseRef: "gh-pages" }), "base branch: gh-pages"],
    ["the base pattern is anchored by the admin", facts({ baseRef: "gh-pages-old" }), null],
    [
      "the first rule that applies gives the reason",
      facts({ labels: ["skip-metrics"], authorLogin: "renovate-bot", baseRef: "gh-pages" }),
      "label: skip-metrics",
    ],
  ])("%s", (_, input, expected) => {
    expect(computeExcludedReason(input, settings)).toBe(expected);
  });

  it("by default leaves out only pull requests labelled skip-metrics", () => {
    expect(
      computeExcludedReason(facts({ labels: ["dependencies"] }), defaultInstallationSettings),
    ).toBeNull();
    expect(computeExcludedReason(facts({ labels: ["skip-metrics"] }), defaultInstallationSettings)).toBe(
      "label: skip-metrics",
    );
    expect(computeExcludedReason(facts({ headRef: "release/1" }), defaultInstallationSettings)).toBeNull();
  });
});
