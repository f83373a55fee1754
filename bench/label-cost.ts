import { getOperationAST, parse } from "graphql";
import { loadQuery, type QueryName } from "../src/github/queries.js";
import { analyzeQuery } from "../test/support/fake-github/cost.js";
import { loadGitHubSchema } from "../test/support/fake-github/graphql.js";

/**
 * The GraphQL cost per pull request of the queries that fetch pull requests, by GitHub's formula
 * (test/support/fake-github/cost.ts), with the labels connection and without it: `npx tsx
 * bench/label-cost.ts`. Static: the formula reads the query and its page sizes, not the data.
 */

const WITHOUT_LABELS =
  /\n\s*# Exclusions by label[^\n]*\n[^\n]*\n\s*labels\(first: 100\) \{\s*nodes \{\s*name\s*\}\s*\}/;

function cost(name: QueryName, variables: Record<string, unknown>, labels: boolean) {
  const text = labels ? loadQuery(name) : loadQuery(name).replace(WITHOUT_LABELS, "");
  if (!labels && text === loadQuery(name)) throw new Error("labels selection not found");
  const document = parse(text);
  return analyzeQuery(loadGitHubSchema(), document, getOperationAST(document)!, variables).cost;
}

const rows: [string, QueryName, Record<string, unknown>, number][] = [
  [
    "backfill/delta page of 100",
    "repository-pull-requests",
    { first: 100, repoId: "x", orderBy: "CREATED_AT" },
    100,
  ],
  [
    "backfill/delta page of 50",
    "repository-pull-requests",
    { first: 50, repoId: "x", orderBy: "CREATED_AT" },
    50,
  ],
  [
    "nightly by id, 100 ids",
    "pull-requests-by-id",
    { ids: Array.from({ length: 100 }, (_, i) => `PR_${i}`) },
    100,
  ],
  ["one pull request (refresh)", "pull-request", { id: "PR_1" }, 1],
];
console.log("| query | PRs | points without labels | points with labels | per PR without | per PR with |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const [label, name, variables, prs] of rows) {
  const before = cost(name, variables, false);
  const after = cost(name, variables, true);
  console.log(
    `| ${label} | ${prs} | ${before} | ${after} | ${(before / prs).toFixed(3)} | ${(after / prs).toFixed(3)} |`,
  );
}
