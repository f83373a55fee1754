import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import type { Probot } from "probot";
import type { Config } from "../../config.js";
import type { Database } from "../../db/client.js";
import type { GitHubClientFactory } from "../../github/installation-client.js";

/** What job handlers get from the composition root (src/runtime.ts). */
export interface JobDeps {
  config: Config;
  database: Database;
  boss: PgBoss;
  /** Replays stored webhook deliveries through the handlers in src/webhooks. */
  probot: Probot;
  github: GitHubClientFactory;
  log: Logger;
  /** The clock: sync windows, progress and pauses are computed from it, never from Date.now(). */
  now: () => Date;
}

export interface JobContext {
  jobId: string;
  log: Logger;
  /** No retry follows if this attempt fails: the place to record a terminal error. */
  finalAttempt: boolean;
}
