import type { PgBoss } from "pg-boss";
import type { Logger } from "pino";
import type { Database } from "../db/client.js";
import type { GitHubClient } from "../github/client.js";
import type { AppMetrics } from "../observability/metrics.js";
import type { InstallationSettings } from "../settings.js";

/** What a sync step needs; built per job so the GitHub client carries a fresh installation token. */
export interface SyncContext {
  database: Database;
  boss: PgBoss;
  client: GitHubClient;
  installationId: number;
  settings: InstallationSettings;
  log: Logger;
  now: () => Date;
  /** Share of the hourly budget left to webhook-driven work, in percent. */
  reservePercent: number;
  metrics?: AppMetrics | undefined;
  /** Days of every repository's history before any goes deeper (FIRST_WINDOW_DAYS when unset; 0: off). */
  firstWindowDays?: number | undefined;
}
