import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * Rooms only look down. From the top: web → jobs → webhooks → sync → notify | queue | github |
 * metrics | observability → db, with runtime.ts and main.ts above them all wiring them together, and the leaf
 * modules (config, errors, settings, text, logger, figures) below them all. SQL is written in src/db only.
 */
const rooms = [
  "runtime",
  "main",
  "server",
  "web",
  "jobs",
  "webhooks",
  "sync",
  "notify",
  "queue",
  "github",
  "metrics",
  "observability",
  "db",
];
const below = {
  web: ["sync", "notify", "queue", "github", "metrics", "observability", "db", "webhooks"],
  jobs: ["webhooks", "sync", "notify", "queue", "github", "metrics", "observability", "db"],
  webhooks: ["sync", "queue", "github", "metrics", "observability", "db"],
  sync: ["queue", "github", "metrics", "observability", "db"],
  notify: ["db"],
  queue: ["db"],
  github: [],
  metrics: ["db"],
  observability: ["db"],
  db: [],
};
const leaves = ["config", "errors", "settings", "text", "logger", "figures"];

function roomRule(room) {
  const allowed = new Set([room, ...below[room]]);
  const forbidden = rooms.filter((other) => !allowed.has(other));
  const patterns = forbidden.map((other) => ({
    group: [`**/${other}`, `**/${other}/**`, `**/${other}.js`],
    message: `src/${room} must not import src/${other}: rooms only look down (see eslint.config.js).`,
  }));
  if (room !== "db") {
    patterns.push(
      {
        group: ["drizzle-orm", "drizzle-orm/*", "postgres"],
        message: "SQL lives in src/db/queries: call a query function instead.",
      },
      {
        group: ["**/db/schema", "**/db/schema/**"],
        allowTypeImports: true,
        message: "Tables are read and written in src/db/queries; import only their row types here.",
      },
    );
  }
  return {
    files: [`src/${room}/**/*.ts`],
    rules: { "@typescript-eslint/no-restricted-imports": ["error", { patterns }] },
  };
}

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".data/", "coverage/", "db/", "src/github/generated/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: "readonly", console: "readonly", Buffer: "readonly", URL: "readonly" },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  ...Object.keys(below).map(roomRule),
  {
    files: leaves.map((leaf) => `src/${leaf}.ts`),
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["./*/**"],
              message: "Leaf modules import no room: every room may import them.",
            },
          ],
        },
      ],
    },
  },
  {
    // The one script the settings UI serves to browsers.
    files: ["views/assets/*.js"],
    languageOptions: { globals: { document: "readonly", Intl: "readonly" } },
  },
  {
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-non-null-assertion": "off" },
  },
);
