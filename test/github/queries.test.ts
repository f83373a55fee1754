import { describe, expect, it } from "@jest/globals";
import { validate } from "@octokit/graphql-schema";
import { loadQuery, queryNames } from "../../src/github/queries.js";

describe("GraphQL queries", () => {
  it.each(queryNames)("%s is valid against GitHub's schema", (name) => {
    const errors = validate(loadQuery(name));
    expect(errors.map((error) => error.message)).toEqual([]);
  });

  it("appends only the fragments a query uses", () => {
    expect(loadQuery("pull-request-commits")).toContain("fragment CommitFields");
    expect(loadQuery("pull-request-commits")).not.toContain("fragment ReviewFields");
    expect(loadQuery("organization-members")).not.toContain("fragment PullRequestFields");
  });

  it("catches a query that is not valid against GitHub's schema", () => {
    expect(validate('query { repository(owner: "a", name: "b") { noSuchField } }').length).toBeGreaterThan(0);
  });
});
