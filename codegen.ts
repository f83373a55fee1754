import type { CodegenConfig } from "@graphql-codegen/cli";

/**
 * Result and variable types of src/github/queries/*.graphql, generated against GitHub's published
 * schema. `npm run codegen` writes them; `npm run codegen:check` (part of `npm run check`) fails
 * when the checked-in file is stale, and an invalid query fails either.
 */
const config: CodegenConfig = {
  schema: "node_modules/@octokit/graphql-schema/schema.graphql",
  documents: "src/github/queries/*.graphql",
  generates: {
    "src/github/generated/graphql.ts": {
      plugins: ["typescript-operations"],
      config: {
        onlyOperationTypes: true,
        enumsAsTypes: true,
        preResolveTypes: true,
        skipTypename: true,
        avoidOptionals: true,
        useTypeImports: true,
        defaultScalarType: "unknown",
        scalars: {
          BigInt: "string",
          DateTime: "string",
          URI: "string",
          GitObjectID: "string",
          HTML: "string",
          GitTimestamp: "string",
        },
      },
    },
  },
};

export default config;
