// `npm run build`, and `npm start` before it starts: compiles src/ into dist/ and copies the GraphQL
// queries beside the compiled client, which reads them at run time.
//
// tsc -b compiles only what changed since the last build (it keeps the hash of every input in
// dist/tsconfig.build.tsbuildinfo, tsBuildInfoFile in tsconfig.build.json): with nothing changed it
// is done in about a second, where a full build takes half a minute. A changed source file, a
// changed tsconfig or a new TypeScript is compiled again.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";

const BUILD_INFO = "dist/tsconfig.build.tsbuildinfo";
const ENTRY_POINT = "dist/src/main.js";

// tsc -b trusts its build info, not the files it wrote: with dist/src deleted it would build
// nothing. Without the entry point, build everything again.
if (!existsSync(ENTRY_POINT)) rmSync(BUILD_INFO, { force: true });

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const { status } = spawnSync(process.execPath, [tsc, "-b", "tsconfig.build.json"], { stdio: "inherit" });
if (status !== 0) process.exit(status ?? 1);

cpSync("src/github/queries", "dist/src/github/queries", { recursive: true });
