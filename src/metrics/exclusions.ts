import { compilePattern } from "./patterns.js";

/**
 * Which pull requests count in no figure, and why: the installation's exclusions (settings.ts)
 * over a pull request's labels, author and branches. The reason is stored per pull request
 * (excluded_reason) with its other derived values, so every figure reads one filter and a change
 * of settings is followed by the same recompute as the hotfix patterns.
 */

/** The installation's exclusions. */
export interface ExclusionSettings {
  excludedLabels: readonly string[];
  excludedAuthors: readonly string[];
  excludedHeadBranchPattern: string;
  excludedBaseBranchPattern: string;
}

/** What of a pull request its exclusion is decided on. */
export interface ExclusionFacts {
  /** Null: not known yet (a row stored before labels were), taken as none. */
  labels: readonly string[] | null;
  authorLogin: string | null;
  headRef: string;
  baseRef: string;
}

/** GitHub compares label names and logins without regard to case. */
const fold = (text: string) => text.toLowerCase();

/**
 * Why the pull request is excluded ("label: skip-metrics", "author: alice", "head branch:
 * release/1.2", "base branch: gh-pages"), or null when it counts. The first rule that applies, in
 * that order, gives the reason.
 */
export function computeExcludedReason(facts: ExclusionFacts, settings: ExclusionSettings): string | null {
  const labels = new Set(settings.excludedLabels.map(fold));
  const label = facts.labels?.find((name) => labels.has(fold(name)));
  if (label !== undefined) return `label: ${label}`;
  const authors = new Set(settings.excludedAuthors.map(fold));
  if (facts.authorLogin !== null && authors.has(fold(facts.authorLogin))) {
    return `author: ${facts.authorLogin}`;
  }
  if (compilePattern(settings.excludedHeadBranchPattern).test(facts.headRef)) {
    return `head branch: ${facts.headRef}`;
  }
  if (compilePattern(settings.excludedBaseBranchPattern).test(facts.baseRef)) {
    return `base branch: ${facts.baseRef}`;
  }
  return null;
}
